"""The llama.cpp build is portable and never has AMX: the installed one, and the one that the
CPU check would choose on any CPU (an AMX Sapphire Rapids included)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from doppel.cli import main
from doppel.models import llamabuild
from doppel.models.llamabuild import (
    ALL_FLAVORS,
    BuildInfo,
    choose_flavor,
    cpu_flags,
    installed_build,
    parse_system_info,
)

# /proc/cpuinfo flags of an Intel Sapphire Rapids (AMX) and of an AMD EPYC Zen 4 (no AMX).
SAPPHIRE_RAPIDS = frozenset(
    "fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c bmi1 bmi2 avx512f avx512dq avx512cd "
    "avx512bw avx512vl avx512ifma avx512vbmi avx512_vbmi2 avx512_vnni avx512_bitalg "
    "avx512_vpopcntdq avx512_bf16 avx512_fp16 avx_vnni amx_bf16 amx_tile amx_int8".split())
ZEN4 = frozenset(
    "fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c bmi1 bmi2 avx512f avx512dq avx512cd "
    "avx512bw avx512vl avx512ifma avx512vbmi avx512_vbmi2 avx512_vnni avx512_bf16".split())
HASWELL = frozenset("fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c bmi1 bmi2".split())
OLD = frozenset("fpu sse sse2 ssse3".split())


def test_the_installed_build_has_no_amx() -> None:
    build = installed_build()
    assert build.features, "llama.cpp reported no features"
    assert not build.has_amx, (f"the installed llama.cpp build has AMX, which segfaults on AMX "
                               f"CPUs; run `make llama` ({build.summary()})")


def test_the_installed_build_is_doppels_portable_one() -> None:
    build = installed_build()
    assert build.flavor is not None, ("llama-cpp-python was not installed by `make llama` "
                                      "(maybe a -march=native build from pip's cache)")
    # One of today's flavors with today's flags: a wheel built with other flags has another key.
    assert build.key in {f.key for f in ALL_FLAVORS}, build.key
    # What the build really uses matches what its flavor asks for, nothing more.
    if build.flavor == "x86-64-avx2":
        assert build.features.get("AVX2") == "1" and "AVX512" not in build.features


# AMX's instructions (Intel SDM vol. 2, "AMX"): none may be in the machine code at all, so
# the build cannot run an AMX path on any CPU, whatever ggml's runtime checks decide.
_AMX_MNEMONICS = re.compile(r"\b(ldtilecfg|sttilecfg|tileloadd|tileloaddt1|tilestored|"
                            r"tilezero|tilerelease|tdpbssd|tdpbsud|tdpbusd|tdpbuud|tdpbf16ps|"
                            r"tdpfp16ps)\b")


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) not installed")
def test_the_installed_libraries_hold_no_amx_instruction() -> None:
    """What the AMX machine would run, read from the machine code: the check that holds on this
    CPU as on a Sapphire Rapids, where the crash was (this build was never run on one)."""
    import llama_cpp

    libs = sorted((Path(llama_cpp.__file__).parent / "lib").glob("libggml*.so"))
    assert libs, "no ggml libraries found beside llama_cpp"
    build = installed_build()
    for lib in libs:
        code = _disassemble(lib)
        assert code.count("\n") > 1000, f"{lib.name}: no code disassembled"
        found = sorted(set(_AMX_MNEMONICS.findall(code)))
        assert not found, f"{lib.name} holds AMX instructions: {found}"
        if build.flavor == "x86-64-avx2":  # nor any AVX-512 (zmm registers)
            assert "%zmm" not in code, f"{lib.name} holds AVX-512 code in an AVX2 build"


def _disassemble(lib: Path) -> str:
    return subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(lib)], check=True,
                          capture_output=True, text=True).stdout


@pytest.mark.skipif(shutil.which("objdump") is None or shutil.which("gcc") is None,
                    reason="objdump or gcc not installed")
def test_the_amx_scan_finds_amx_code(tmp_path: Path) -> None:
    """The scan above can fail: a library compiled with AMX tile code is caught."""
    source = tmp_path / "amx.c"
    source.write_text("#include <immintrin.h>\n"
                      "void f(const void *a, void *c, const void *cfg) {\n"
                      "  _tile_loadconfig(cfg); _tile_loadd(1, a, 64); _tile_loadd(2, a, 64);\n"
                      "  _tile_zero(0); _tile_dpbssd(0, 1, 2); _tile_stored(0, c, 64);\n"
                      "  _tile_release(); }\n")
    lib = tmp_path / "libamx.so"
    built = subprocess.run(["gcc", "-O2", "-mamx-tile", "-mamx-int8", "-shared", "-fPIC",
                            str(source), "-o", str(lib)], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"this gcc cannot compile AMX code: {built.stderr[-200:]}")
    assert {"ldtilecfg", "tileloadd", "tdpbssd", "tilestored"} <= set(
        _AMX_MNEMONICS.findall(_disassemble(lib)))


@pytest.mark.parametrize("flags", [SAPPHIRE_RAPIDS, ZEN4, HASWELL, OLD, frozenset()],
                         ids=["sapphire-rapids", "zen4", "haswell", "old-x86", "unknown"])
def test_no_cpu_ever_gets_a_native_or_amx_build(flags: frozenset[str]) -> None:
    flavor = choose_flavor(flags, machine="x86_64")
    args = " ".join(flavor.cmake_args)
    assert "-DGGML_NATIVE=OFF" in args and "march=native" not in args
    for amx in ("AMX_TILE", "AMX_INT8", "AMX_BF16"):
        assert f"-DGGML_{amx}=OFF" in args
    assert flavor.requires <= flags  # never an instruction the CPU lacks (SIGILL)


def test_flavor_choice_is_by_cpu_family() -> None:
    assert choose_flavor(SAPPHIRE_RAPIDS, machine="x86_64").name == "x86-64-avx2"
    assert choose_flavor(ZEN4, machine="x86_64").name == "x86-64-avx2"
    assert choose_flavor(OLD, machine="x86_64").name == "x86-64-baseline"
    assert choose_flavor(frozenset({"neon", "asimd"}), machine="aarch64").name == "generic"
    assert choose_flavor(HASWELL, override="x86-64-avx512").name == "x86-64-avx512"
    with pytest.raises(ValueError, match="unknown DOPPEL_LLAMA_FLAVOR"):
        choose_flavor(HASWELL, override="native")


def test_build_keys_name_version_flavor_and_flags() -> None:
    keys = {f.key for f in ALL_FLAVORS}
    assert len(keys) == len(ALL_FLAVORS)
    for flavor in ALL_FLAVORS:
        assert flavor.key.startswith(f"{llamabuild.LLAMA_VERSION}-{flavor.name}-")
        assert flavor.key == llamabuild.Flavor(flavor.name, flavor.requires,
                                               flavor.cmake_args).key  # deterministic


def test_cpuinfo_flags_are_read() -> None:
    text = "processor\t: 0\nflags\t\t: fpu avx2 amx_int8\n\nprocessor\t: 1\nflags\t: fpu\n"
    assert cpu_flags(text) == {"fpu", "avx2", "amx_int8"}
    assert cpu_flags("Features\t: fp asimd\n") == {"fp", "asimd"}


def test_system_info_is_parsed_and_amx_recognised() -> None:
    amx = ("CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | "
           "LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | ")
    features = parse_system_info(amx)
    assert features["AVX512"] == "1" and features["AMX_INT8"] == "1"
    assert BuildInfo("0.3.36", None, None, features).has_amx
    assert not BuildInfo("0.3.36", None, None,
                         parse_system_info("CPU : AVX2 = 1 | OPENMP = 1 |")).has_amx


def test_doppel_init_refuses_an_amx_build(monkeypatch: pytest.MonkeyPatch, app) -> None:
    monkeypatch.setattr(llamabuild, "llama_system_info",
                        lambda: "CPU : AVX2 = 1 | AMX_INT8 = 1 | OPENMP = 1 |")
    result = CliRunner().invoke(main, ["init"], obj={"app": app, "settings": app.settings})
    assert result.exit_code != 0
    assert "AMX" in result.output and "make llama" in result.output
    assert "Traceback" not in result.output


def test_doppel_init_prints_the_builds_cpu_features(monkeypatch: pytest.MonkeyPatch,
                                                    app) -> None:
    from doppel.models import prepare

    # Only the printing is under test here: preparing the models is test_cli's and conftest's.
    monkeypatch.setattr(prepare, "is_prepared", lambda settings: False)
    monkeypatch.setattr(prepare, "prepare_models", lambda settings, log: prepare.model_paths(
        settings))
    monkeypatch.setattr("doppel.safety.classifier.load_or_train", lambda *a, **k: None)
    monkeypatch.setattr("doppel.distill.gguf.prepare_converter", lambda settings: "skipped")
    monkeypatch.setattr("doppel.distill.student.prepare_student", lambda settings: "skipped")
    result = CliRunner().invoke(main, ["init"], obj={"app": app, "settings": app.settings})
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("llama.cpp:"))
    assert "CPU features:" in line and "AVX" in line and "AMX" not in line
