"""Edits to the C++ that Brian2's standalone devices generate, each one checked.

Brian2 has no hook for any of these, so they rewrite the generated source after ``device.build``
and before compilation (:class:`bio.devices.StandaloneRunner`). Each raises if the code it expects
is not there, naming itself, rather than let a build of another Brian2 version run unpatched.

* :func:`relative_clock_tolerance`: a fix (slot-start operations ran a step late after ~64 s).
* :func:`variable_run_length`: a run argument Brian2 lacks (simulate fewer slots than compiled).
* :func:`no_clock_read_per_step`, :func:`contiguous_input_pathway`, :func:`active_inputs`,
  :func:`spike_free_steps`, :func:`decay_factors_once` and :func:`block_normalisation`: speed,
  cpp_standalone only; none changes a spike or a weight (``tests/test_bit_exact_builds.py`` builds with
  and without them and compares every result bit for bit). ``SNN_FAST_PATHWAY=0`` leaves them out.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

# Brian2's generated scheduler treats two clocks as due together when their
# times differ by at most 1e-14 s, an absolute tolerance. Beyond ~32 s of
# simulated time, k * slot and n * dt can differ by more (one unit in the last
# place of a double), and then the slot-start operations (load the next
# example, reset to rest, normalise weights) run one time step late in some
# slots: an example's spikes depended on where in a long chunk it ran. The
# tolerance is made relative to t in the generated source (C++ and CUDA).
_CLOCK_TEST = "fabs(s-t)<=Clock_epsilon)"
_CLOCK_TEST_RELATIVE = "fabs(s-t)<=Clock_epsilon*(1.0+fabs(t)))"


def _fail(directory, what: str, patch) -> RuntimeError:
    return RuntimeError(f"{what} in {directory}: this Brian2 version generates other code; "
                        f"check bio.source_patches.{patch.__name__} against it")


def relative_clock_tolerance(directory) -> None:
    patched = False
    for src in (Path(directory) / "network.cpp", Path(directory) / "network.cu"):
        text = src.read_text() if src.is_file() else ""
        if _CLOCK_TEST in text:
            text = text.replace(_CLOCK_TEST, _CLOCK_TEST_RELATIVE)
            src.write_text(text)
        patched = patched or _CLOCK_TEST_RELATIVE in text
    if not patched:
        raise _fail(directory, "no clock test to patch (network.cpp|cu)", relative_clock_tolerance)


# A run may stop before the compiled duration: the generated main() reads the
# duration from $SNN_RUN_SECONDS (never longer than compiled, which sizes the
# arrays), so a chunk of m < n_slots presentations simulates m slots, not
# n_slots with padding. Brian2 has no run argument for the duration.
RUN_SECONDS_ENV = "SNN_RUN_SECONDS"
_RUN_CALL = re.compile(r"(\w+\.run\()([0-9.eE+-]+)(,)")
_RUN_SECONDS_FN = """#include <cstdlib>
static double snn_run_seconds(double compiled)
{
    const char* s = std::getenv("%s");
    const double d = s ? std::atof(s) : 0.0;
    return (d > 0.0 && d < compiled) ? d : compiled;
}
""" % RUN_SECONDS_ENV


def variable_run_length(directory) -> None:
    for src in (Path(directory) / "main.cpp", Path(directory) / "main.cu"):
        if not src.is_file():
            continue
        text = src.read_text()
        if "snn_run_seconds" in text:
            return
        text, n = _RUN_CALL.subn(r"\1snn_run_seconds(\2)\3", text)
        if n != 1:
            raise _fail(src, f"expected one network run call, found {n}", variable_run_length)
        src.write_text(_RUN_SECONDS_FN + text)
        return
    raise RuntimeError(f"no main.cpp or main.cu in {directory}")


FAST_PATHWAY_ENV = "SNN_FAST_PATHWAY"


def fast_pathway() -> bool:
    """Whether cpp_standalone builds get the speed patches below (unless SNN_FAST_PATHWAY=0)."""
    return os.environ.get(FAST_PATHWAY_ENV, "1") != "0"


# The scheduler reads the process CPU clock after every time step, only to stop a run that exceeds a
# maximum run time (not used here). On a virtual machine that read is a system call: 3-6 % of a frozen
# run's time in the kernel's clock functions (benchmarks.profile_bio). Read once, after the loop.
_STEP_CLOCK = re.compile(r"\n[ \t]*current = std::clock\(\);\n[ \t]*elapsed_realtime = "
                         r"\(double\)\(current - start\)/\(1 \* CLOCKS_PER_SEC\);")
_LAST_RUN_TIME = "    _last_run_time = elapsed_realtime;"


def no_clock_read_per_step(directory) -> None:
    src = Path(directory) / "network.cpp"
    text = src.read_text()
    if "elapsed_realtime>" in text:
        raise _fail(directory, "a maximum run time is set (it needs the per-step clock)", no_clock_read_per_step)
    text, n = _STEP_CLOCK.subn("", text)
    if n != 1 or text.count(_LAST_RUN_TIME) != 1:
        raise _fail(directory, "no per-step clock read in network.cpp", no_clock_read_per_step)
    src.write_text(text.replace(_LAST_RUN_TIME, "    elapsed_realtime = (double)(std::clock() - start) / "
                                                "CLOCKS_PER_SEC;\n" + _LAST_RUN_TIME))


# The input -> exc pathway is dense and laid out by bio.network (explicit i, j in copy-major, then
# input-major order): the synapses of input neuron g are [g * n_exc, (g + 1) * n_exc), onto exc neurons
# (g // n_input) * n_exc + m, without delays. Brian2's generic loop pushes every synapse of every input
# spike through a spike queue and reads each target from an index array (~900,000 synaptic events per
# 400-exc example, 22 % of a frozen run plus 3 % for the queue). Here the same statements, Brian2's own,
# run over each spiking input's block of synapses with the target computed, a loop GCC vectorises;
# every target receives the same additions in the same order, so the results are bit for bit the same.
_QUEUE_LOOP = re.compile(
    r"std::vector<int> \*_spiking_synapses = (?P<path>\w+)\.peek\(\);\s*"
    r"const int _num_spiking_synapses = _spiking_synapses->size\(\);\s*"
    r"\{\s*for\(int _spiking_synapse_idx=0;\s*_spiking_synapse_idx<_num_spiking_synapses;\s*"
    r"_spiking_synapse_idx\+\+\)\s*\{\s*"
    r"const size_t _idx = \(\*_spiking_synapses\)\[_spiking_synapse_idx\];\s*"
    r"const size_t _vectorisation_idx = _idx;\s*"
    r"const int32_t _postsynaptic_idx = _ptr_array_(?P<syn>\w+)__synaptic_post\[_idx\];")
_BLOCK_LOOP = """// bio.source_patches.contiguous_input_pathway: each spiking input's block of synapses
    const int32_t* _snn_spikes = _array_{source}__spikespace;
    const int _snn_n_spiking = _snn_spikes[{n_source}];
    {{
        for(int _snn_k=0; _snn_k<_snn_n_spiking; _snn_k++)
        for(int _snn_m=0; _snn_m<{block}; _snn_m++)
        {{
            const size_t _idx = (size_t)_snn_spikes[_snn_k] * {block} + _snn_m;
            const size_t _vectorisation_idx = _idx;
            const int32_t _postsynaptic_idx = (_snn_spikes[_snn_k] / {n_per_copy}) * {block} + _snn_m;"""
_PUSH = re.compile(r"\n[ \t]*(?P<path>\w+)\.push\(_ptr_array_(?P<source>\w+)__spikespace, "
                   r"_ptr_array_(?P=source)__spikespace\[_num_spikespace-1\]\);")


def contiguous_input_pathway(directory, pathway: str, source: str, n_input: int, n_exc: int, copies: int) -> None:
    """Rewrite ``pathway`` (e.g. ``input_exc_pre``) of source group ``source`` as block loops."""
    objects = Path(directory) / "code_objects"
    code, push = objects / f"{pathway}_codeobject.cpp", objects / f"{pathway}_push_spikes.cpp"
    text = code.read_text()
    loop = _BLOCK_LOOP.format(source=source, n_source=copies * n_input, block=n_exc, n_per_copy=n_input)
    m = _QUEUE_LOOP.search(text)
    if m is None or m["path"] != pathway:
        raise _fail(code, "no spike-queue loop of this pathway", contiguous_input_pathway)
    code.write_text(text[:m.start()] + loop + text[m.end():])
    # Nothing reads the queue now: do not fill it.
    text = push.read_text()
    m = _PUSH.search(text)
    if m is None or m["path"] != pathway or m["source"] != source:
        raise _fail(push, "no spike push of this pathway", contiguous_input_pathway)
    push.write_text(text[:m.start()] + "\n        // no push: bio.source_patches.contiguous_input_pathway"
                    + text[m.end():])


# Most input pixels of an image are 0 (about 80 % of an MNIST digit) and can never spike, yet Brian2's
# thresholder tests all 784 in every time step, a branch that the CPU mispredicts at every edge of a
# stroke. The inputs with p_spike > 0 are listed once per slot (p_spike is written only at slot starts,
# by bio.network's LOAD_STIMULUS) and the thresholder visits those, in ascending order, so the spike
# list comes out the same. Brian2's own condition, which still tests p_spike > 0, decides each spike.
# Brian2's thresholder loop, as both active_inputs and spike_free_steps find it.
_THRESHOLD_LOOP = "    long _count = 0;\n    for(size_t _idx=0; _idx<N; _idx++)\n    {\n"
_ACTIVE_LOOP = """    long _count = 0;
    // bio.source_patches.active_inputs: only inputs with p_spike > 0 can spike
    static size_t _snn_active[N];
    static size_t _snn_n_active = 0;
    static bool _snn_listed = false;
    if (!_snn_listed || _brian_mod(_timestep(t, dt), steps_per_slot) == 0)
    {
        _snn_n_active = 0;
        for(size_t _i=0; _i<N; _i++)
            if (_ptr_array_{group}_p_spike[_i] > 0)
                _snn_active[_snn_n_active++] = _i;
        _snn_listed = true;
    }
    for(size_t _snn_a=0; _snn_a<_snn_n_active; _snn_a++)
    {
        const size_t _idx = _snn_active[_snn_a];
"""


def active_inputs(directory, group: str = "inputs") -> None:
    """Let the thresholder of ``group`` visit only the inputs that can spike in this slot."""
    code = Path(directory) / "code_objects" / f"{group}_spike_thresholder_codeobject.cpp"
    text = code.read_text()
    if text.count(_THRESHOLD_LOOP) != 1 or "const char _cond = (p_spike > 0) && " not in text \
            or "steps_per_slot" not in text:
        raise _fail(code, "no thresholder loop testing p_spike > 0 first", active_inputs)
    code.write_text(text.replace(_THRESHOLD_LOOP, _ACTIVE_LOOP.replace("{group}", group)))


# In most time steps no exc or inh neuron crosses threshold (tens of exc spikes per 700-step
# presentation), yet the thresholder walks all neurons through a branch that appends to the spike list.
# A first pass over the same condition, Brian2's own, without the branch (GCC vectorises it) tells whether
# any neuron spikes; only then does Brian2's loop run.
_SPIKE_BRANCH = "\n        if(_cond) {"


def spike_free_steps(directory, group: str) -> None:
    """Skip the spike-list loop of ``group``'s thresholder in steps where no neuron crosses."""
    code = Path(directory) / "code_objects" / f"{group}_spike_thresholder_codeobject.cpp"
    text = code.read_text()
    start = text.find(_THRESHOLD_LOOP)
    end = text.find(_SPIKE_BRANCH, start)
    if start < 0 or end < 0 or text.count(_THRESHOLD_LOOP) != 1:
        raise _fail(code, "no thresholder loop", spike_free_steps)
    body = text[start + len(_THRESHOLD_LOOP):end]
    check = ("    // bio.source_patches.spike_free_steps: does any neuron cross?\n    char _snn_any = 0;\n"
             "    for(size_t _idx=0; _idx<N; _idx++)\n    {\n" + body + "\n        _snn_any |= _cond;\n    }\n")
    head = "    long _count = 0;\n    if(_snn_any)\n    for(size_t _idx=0; _idx<N; _idx++)\n    {\n"
    code.write_text(text[:start] + check + head + text[start + len(_THRESHOLD_LOOP):])


# Brian2 recomputes each state updater's decay factors, exp(-dt / tau), in every time step. dt is fixed
# for a run, so each factor is computed once per process, by the same expression. And GCC vectorises
# the updater's loop behind a run-time test that its arrays do not overlap (Brian2's __restrict on local
# pointers is not enough for it); each neuron's update reads and writes only its own elements, so the
# loop is marked free of dependences (ivdep) and needs no such test.
_DECAY_FACTOR = re.compile(r"const double (_lio_\d+) = (exp\(1\.0f\*\(- dt\)/\w+\));")
_UPDATE_LOOP = "\n    for(int _idx=0; _idx<_N; _idx++)\n"


def decay_factors_once(directory, groups=("exc", "inh")) -> None:
    for group in groups:
        code = Path(directory) / "code_objects" / f"{group}_stateupdater_codeobject.cpp"
        text, n = _DECAY_FACTOR.subn(r"static const double \1 = \2;", code.read_text())
        if n == 0 or text.count(_UPDATE_LOOP) != 1:
            raise _fail(code, "no decay factor exp(-dt/tau) or no update loop", decay_factors_once)
        code.write_text(text.replace(_UPDATE_LOOP, "\n    #pragma GCC ivdep" + _UPDATE_LOOP))


# Training rescales every exc neuron's incoming weights at each slot start (bio.network's NORMALISE):
# Brian2 sums them through its summed-variable loop, then scales each synapse, both over all
# n_input * n_exc synapses reading the target from an index array, with a division per synapse. At
# 6,400 exc (5 M synapses, 40 MB of weights) the two took 21 % of training (benchmarks.profile_bio). The
# pathway's layout (copy-major, then input-major; contiguous_input_pathway) gives each block of n_exc
# synapses the targets copy * n_exc + m, so both loops run over contiguous blocks, which GCC vectorises.
# Each sum adds the same weights in the same order, and the factor is Brian2's expression evaluated
# once per neuron instead of once per synapse (compiled without -ffast-math, so the same number):
# the weights stay bit for bit the same.
_SUMMED_LOOP = re.compile(
    r"for\(int _idx=0; _idx<_ptr_array_(?P<syn>\w+)_N\[0\]; _idx\+\+\)\s*\{\s*"
    r"// vector code\s*const size_t _vectorisation_idx = _idx;\s*"
    r"const double w = _ptr_array_(?P=syn)_w\[_idx\];\s*"
    r"const double _synaptic_var = w;\s*"
    r"_ptr_array_(?P<post>\w+)_wsum\[_ptr_array_(?P=syn)__synaptic_post\[_idx\]\] \+= _synaptic_var;\s*\}")
_SCALE_LOOP = re.compile(
    r"const int _N = _array_(?P<syn>\w+)_N\[0\];\s*"
    r"for\(int _idx=0; _idx<_N; _idx\+\+\)\s*\{\s*"
    r"// vector code\s*const size_t _vectorisation_idx = _idx;\s*"
    r"const int32_t _postsynaptic_idx = _ptr_array_(?P=syn)__synaptic_post\[_idx\];\s*"
    r"double w = _ptr_array_(?P=syn)_w\[_idx\];\s*"
    r"const double wsum_post = _ptr_array_(?P<post>\w+)_wsum\[_postsynaptic_idx\];\s*"
    r"w \*= (?P<factor>[^;]+);\s*"
    r"_ptr_array_(?P=syn)_w\[_idx\] = w;\s*\}")
_LAYOUT_CHECK = """if (_snn_n_syn != {n_syn}) {{ fprintf(stderr, "bio.source_patches.block_normalisation: %d synapses, "
        "built for {n_syn}\\n", (int)_snn_n_syn); exit(1); }}"""
_BLOCK_SUM = """// bio.source_patches.block_normalisation: the sums over contiguous blocks
    const int _snn_n_syn = _ptr_array_{syn}_N[0];
    {check}
    for(int _snn_b=0; _snn_b<{n_blocks}; _snn_b++)
    {{
        double* __restrict _snn_sum = _ptr_array_{post}_wsum + (_snn_b / {n_input}) * {n_exc};
        const double* __restrict _snn_w = _ptr_array_{syn}_w + (size_t)_snn_b * {n_exc};
        for(int _snn_m=0; _snn_m<{n_exc}; _snn_m++)
            _snn_sum[_snn_m] += _snn_w[_snn_m];
    }}"""
_BLOCK_SCALE = """// bio.source_patches.block_normalisation: Brian2's factor once per neuron, then contiguous blocks
    const int _snn_n_syn = _array_{syn}_N[0];
    {check}
    static double _snn_factor[{n_post}];
    for(int _snn_j=0; _snn_j<{n_post}; _snn_j++)
    {{
        const double wsum_post = _ptr_array_{post}_wsum[_snn_j];
        _snn_factor[_snn_j] = {factor};
    }}
    for(int _snn_b=0; _snn_b<{n_blocks}; _snn_b++)
    {{
        double* __restrict _snn_w = _ptr_array_{syn}_w + (size_t)_snn_b * {n_exc};
        const double* __restrict _snn_f = _snn_factor + (_snn_b / {n_input}) * {n_exc};
        for(int _snn_m=0; _snn_m<{n_exc}; _snn_m++)
            _snn_w[_snn_m] *= _snn_f[_snn_m];
    }}"""


def block_normalisation(directory, synapses: str, n_input: int, n_exc: int, copies: int) -> None:
    """Rewrite the weight sums and the rescaling of ``synapses`` (e.g. ``input_exc``) as block loops."""
    objects = Path(directory) / "code_objects"
    summed = objects / f"{synapses}_summed_variable_wsum_post_codeobject.cpp"
    scale = objects / "normalise_codeobject.cpp"
    sizes = dict(n_input=n_input, n_exc=n_exc, n_blocks=copies * n_input, n_post=copies * n_exc,
                 check=_LAYOUT_CHECK.format(n_syn=copies * n_input * n_exc))
    for code, loop, block in ((summed, _SUMMED_LOOP, _BLOCK_SUM), (scale, _SCALE_LOOP, _BLOCK_SCALE)):
        text = code.read_text() if code.is_file() else ""
        m = loop.search(text)
        if m is None or m["syn"] != synapses:
            raise _fail(code, "no weight-sum or rescaling loop over this pathway", block_normalisation)
        fill = dict(sizes, **m.groupdict())
        code.write_text("#include <cstdio>\n#include <cstdlib>\n" + text[:m.start()] + block.format(**fill)
                        + text[m.end():])
