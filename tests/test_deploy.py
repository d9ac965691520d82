"""The scheduling files in deploy/ work as shipped, once their paths point at this checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
INSTALL_DIR = "/opt/sasscrawl"
DATA_DIR = "/var/lib/sasscrawl"


def cron_command(crontab: Path) -> str:
    """The command of the crontab's only job line (after the five time fields)."""
    jobs = [line for line in crontab.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert len(jobs) == 1
    return jobs[0].split(None, 5)[5]


def local_cron_command(start_url: str, data_dir: Path) -> str:
    command = cron_command(DEPLOY / "cron" / "sasscrawl.crontab")
    venv = Path(sys.executable).parent.parent
    command = command.replace(f"cd {INSTALL_DIR} && .venv/bin/scrapy", f"cd {PROJECT_ROOT} && {venv}/bin/scrapy")
    command = command.replace(DATA_DIR, str(data_dir))
    # Against the replica, quickly: the same line with a start_url and politeness lifted.
    return command.replace("crawl commentary", f"crawl commentary -a start_url={start_url} -s DOWNLOAD_DELAY=0 "
                                               "-s AUTOTHROTTLE_ENABLED=False -s RETRY_TIMES=0", 1)


def test_cron_line_is_quiet_when_the_run_is_healthy(clean_site, serve, tmp_path):
    command = local_cron_command(serve(clean_site).start_url, tmp_path)
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert (tmp_path / "articles.jsonl").exists() and (tmp_path / "crawl.log").exists()


def test_cron_line_speaks_up_when_the_run_is_broken(tmp_path):
    command = local_cron_command("http://127.0.0.1:1/103002/default.aspx", tmp_path)
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("sasscrawl run failed with exit status 1;")


def unit_settings(name: str) -> dict[str, str]:
    """``Key=value`` lines of a shipped unit file (one value per key is all ours have)."""
    lines = (DEPLOY / "systemd" / name).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_the_service_s_time_limit_and_failure_hook_take_effect():
    """systemd-analyze accepts both mistakes silently: RuntimeMaxSec= on a oneshot, an OnFailure= unit not shipped."""
    service = unit_settings("sasscrawl.service")
    assert service["RuntimeMaxSec"] and service["Type"] != "oneshot"
    template = service["OnFailure"].replace("@%n.service", "@.service")
    assert (DEPLOY / "systemd" / template).is_file()
    assert service["StateDirectory"] == "sasscrawl" and f"DATA_DIR={DATA_DIR}" in service["ExecStart"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_units_verify(tmp_path):
    scrapy = Path(sys.executable).parent / "scrapy"
    names = ("sasscrawl.service", "sasscrawl.timer", "sasscrawl-failure@.service")
    for name in names:
        text = (DEPLOY / "systemd" / name).read_text()
        text = text.replace(f"{INSTALL_DIR}/.venv/bin/scrapy", str(scrapy)).replace("User=sasscrawl", "User=root")
        (tmp_path / name).write_text(text.replace(INSTALL_DIR, str(PROJECT_ROOT)))
    done = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / name) for name in names)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate is not installed here")
def test_logrotate_rotates_the_cron_log(tmp_path):
    text = (DEPLOY / "logrotate" / "sasscrawl").read_text()
    assert f"{DATA_DIR}/crawl.log" in text and f"{DATA_DIR}/crawl.log" in cron_command(DEPLOY / "cron" / "sasscrawl.crontab")
    config = tmp_path / "logrotate.conf"
    config.write_text(text.replace(DATA_DIR, str(tmp_path)).replace("su sasscrawl sasscrawl", "su root root"))
    (tmp_path / "crawl.log").write_text("a run's log\n")
    done = subprocess.run(["logrotate", "--state", str(tmp_path / "state"), "--force", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "crawl.log.1").read_text() == "a run's log\n" and not (tmp_path / "crawl.log").exists()
