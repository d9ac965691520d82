"""The mirror's fixity checks on files made here, with hand-checked expectations."""

from __future__ import annotations

import hashlib

from sasscrawl.fixity import Damage, file_problem, record_damage


def record(article_id: int, *images: dict) -> dict:
    return {"articleId": article_id, "images": list(images)}


def image(path: str, data: bytes, status: str = "downloaded") -> dict:
    return {"url": f"http://h/{path}", "path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "status": status}


def test_each_kind_of_damage_is_named(tmp_path):
    (tmp_path / "sound.jpg").write_bytes(b"sound")
    (tmp_path / "short.jpg").write_bytes(b"sho")
    (tmp_path / "flipped.jpg").write_bytes(b"flipPed")
    (tmp_path / "outside.jpg").write_bytes(b"linked")
    (tmp_path / "link.jpg").symlink_to(tmp_path / "outside.jpg")
    expected = {"sound.jpg": None, "short.jpg": "has 3 bytes, 5 recorded", "missing.jpg": "is missing",
                "flipped.jpg": "does not match its recorded sha256", "link.jpg": "is not a regular file"}
    facts = {"sound.jpg": b"sound", "short.jpg": b"short", "missing.jpg": b"m", "flipped.jpg": b"flipped",
             "link.jpg": b"linked"}
    for path, problem in expected.items():
        entry = image(path, facts[path])
        assert file_problem(tmp_path, path, entry["size"], entry["sha256"], hash_bytes=True) == problem, path
    # Without hashing, only what the file system shows: the flipped byte goes unseen.
    flipped = image("flipped.jpg", b"flipped")
    assert file_problem(tmp_path, "flipped.jpg", flipped["size"], flipped["sha256"], hash_bytes=False) is None


def test_record_damage_reads_a_shared_file_once_and_names_every_article(tmp_path, monkeypatch):
    import sasscrawl.fixity as fixity

    (tmp_path / "shared.jpg").write_bytes(b"changed")
    reads = []
    real = fixity._sha256
    monkeypatch.setattr(fixity, "_sha256", lambda path: reads.append(path) or real(path))
    shared = image("shared.jpg", b"origina")
    failed = image("never.jpg", b"x", status="failed")
    found = list(record_damage(tmp_path, [record(1, shared, failed), record(2, shared)]))
    assert found == [Damage(1, shared["url"], "shared.jpg", "does not match its recorded sha256"),
                     Damage(2, shared["url"], "shared.jpg", "does not match its recorded sha256")]
    assert len(reads) == 1
    assert str(found[0]) == "article 1: shared.jpg does not match its recorded sha256 (http://h/shared.jpg)"
