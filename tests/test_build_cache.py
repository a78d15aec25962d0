"""Opening a cached standalone project recompiles only what changed."""
import os

from bio.build_cache import unchanged_sources_keep_their_time


def test_rewritten_but_identical_sources_keep_their_time(tmp_path):
    old = 1_000_000_000 * 10**9
    files = {name: tmp_path / name for name in ("makefile", "main.cpp", "objects.cpp", "static.dat")}
    for f in files.values():
        f.write_text("int x;\n")
        os.utime(f, ns=(old, old))
    with unchanged_sources_keep_their_time(tmp_path):
        for f in files.values():                      # what brian2's build does: write everything again
            f.write_text("int x;\n")
        files["objects.cpp"].write_text("int y;\n")   # one source really changed
        (tmp_path / "new.h").write_text("")
    assert files["makefile"].stat().st_mtime_ns == old
    assert files["main.cpp"].stat().st_mtime_ns == old
    assert files["objects.cpp"].stat().st_mtime_ns > old    # make must rebuild it
    assert files["static.dat"].stat().st_mtime_ns > old     # not a make input: left alone
    assert (tmp_path / "new.h").exists()
