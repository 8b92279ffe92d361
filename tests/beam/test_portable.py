"""coderkit's coders on a portable runner, the way Dataflow or Flink runs a pipeline.

The module's fixtures start Beam's portable job service and an external SDK worker pool as
separate processes on free local ports (shared by every test here). Each pipeline is submitted with
``--runner=PortableRunner --environment_type=EXTERNAL``: its coders (coderkit's wrapped record coders,
standard rows, the encoded keys of DeterministicGroupByKey) travel in the pipeline proto over gRPC
to the job service, which asks the pool for an SDK worker: a new ``python`` process (started through
``BOOT``, as the SDK container starts one) that rebuilds the coders from the proto and runs the fns.
The worker writes the exact repr of what it holds (classes included) to files in tmp_path, named by
its pid; the tests read them back.

A service that exits before it listens fails the tests with its output (one that hangs is ended by
pytest's timeout, and the failure carries its output too); the process
groups the fixtures start are killed at teardown, whatever happened (the pool's own SDK workers with it).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability import python_urns
from apache_beam.runners import pipeline_context

from coders import RecordCoder, RowCoder, get_coder
from coders.beam import DeterministicGroupByKey, install, uninstall
from coders.beam.adapter import CoderkitBeamCoder
from coders.beam.rows import CoderkitRowCoder
from coders.primitives import CanonicalFloatCoder
from coders.temporal import DateCoder

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import portable_types as pt  # noqa: E402

pytestmark = pytest.mark.pipeline

STOP_SECONDS = 5  # how long SIGTERM gets before SIGKILL, at teardown
LOG_TAIL = 4000


def free_port() -> int:
    """A port free on 127.0.0.1 now (the service binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env() -> dict[str, str]:
    """The services' environment: the venv's ``python`` first on PATH (the pool's default worker command
    is a bare ``python``; BOOT names it exactly), and this directory and the repository root on
    PYTHONPATH (the worker imports coderkit and portable_types)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), str(ROOT), env.get("PYTHONPATH")]))
    env.pop("CODERKIT_UPDATE_SNAPSHOTS", None)
    return env


#: The SDK container's boot, in Python: the pool runs it for each worker (``--container_executable``).
#: Like Beam's Go boot in the SDK image on Dataflow and Flink, it reads the job's options from the
#: provision service and starts ``sdk_worker_main``, which honours them (``--beam_plugins`` among
#: them). The pool's default worker starts ``SdkHarness`` directly and ignores every option: there
#: ``coders.beam.rows`` is imported only if some pickled fn happens to import it first.
BOOT = """\
import argparse
import os
import sys

import grpc
from google.protobuf import json_format
from apache_beam.portability.api import beam_provision_api_pb2, beam_provision_api_pb2_grpc, endpoints_pb2

parser = argparse.ArgumentParser()
for flag in ("id", "logging_endpoint", "artifact_endpoint", "provision_endpoint", "control_endpoint"):
    parser.add_argument("--" + flag, required=True)
args = parser.parse_args()
with grpc.insecure_channel(args.provision_endpoint) as channel:
    stub = beam_provision_api_pb2_grpc.ProvisionServiceStub(channel)
    request = beam_provision_api_pb2.GetProvisionInfoRequest()
    info = stub.GetProvisionInfo(request, metadata=[("worker_id", args.id)], timeout=30).info
os.environ.update(
    WORKER_ID=args.id,
    PIPELINE_OPTIONS=json_format.MessageToJson(info.pipeline_options),
    CONTROL_API_SERVICE_DESCRIPTOR=str(endpoints_pb2.ApiServiceDescriptor(url=args.control_endpoint)),
    LOGGING_API_SERVICE_DESCRIPTOR=str(endpoints_pb2.ApiServiceDescriptor(url=args.logging_endpoint)),
    RUNNER_CAPABILITIES=" ".join(info.runner_capabilities),
)
os.execv(sys.executable, [sys.executable, "-m", "apache_beam.runners.worker.sdk_worker_main"])
"""


def write_boot(directory: Path) -> Path:
    boot = directory / "boot"
    boot.write_text(f"#!{sys.executable}\n{BOOT}")
    boot.chmod(0o755)
    return boot


class Service:
    """One service process, in a process group of its own (so its children die with it)."""

    def __init__(self, name: str, module: str, log_dir: Path, port_flag: str, *args: str):
        self.name, self.port = name, free_port()
        self.log = log_dir / f"{name.replace(' ', '-')}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, f"{port_flag}={self.port}", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=service_env(),
                cwd=log_dir,
                start_new_session=True,
            )

    def output(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-LOG_TAIL:] or "(no output)"

    def wait_listening(self) -> None:
        """Until the service listens, or exits (a failure with its output). A service that does neither
        is ended by pytest's own timeout; the failure then carries its output too."""
        try:
            while True:
                code = self.process.poll()
                if code is not None:
                    pytest.fail(
                        f"the {self.name} exited with {code} before listening on port {self.port}:\n{self.output()}"
                    )
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
                time.sleep(0.05)
        except pytest.fail.Exception:
            raise
        except BaseException as e:  # pytest-timeout's interruption: say what the service printed
            raise AssertionError(f"the {self.name} never listened on port {self.port}:\n{self.output()}") from e

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL to whatever is left (the pool's SDK workers ignore its death)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_SECONDS)
        self.process.wait()


@pytest.fixture(scope="module")
def portable(tmp_path_factory):
    """Pipeline options for the job service and worker pool started here (stopped at module end)."""
    log_dir = tmp_path_factory.mktemp("portable-services")
    with contextlib.ExitStack() as stack:
        services = []
        boot = write_boot(log_dir)
        for name, module, *flags in [
            ("job service", "apache_beam.runners.portability.local_job_service_main", "--port"),
            (
                "worker pool",
                "apache_beam.runners.worker.worker_pool_main",
                "--service_port",
                f"--container_executable={boot}",
            ),
        ]:
            service = Service(name, module, log_dir, *flags)
            stack.callback(service.stop)
            services.append(service)
        for service in services:
            service.wait_listening()
        jobs, pool = services
        yield Portable(jobs, pool)


class Portable:
    """The running services: pipeline options that use them, and a run that reports their output."""

    def __init__(self, jobs: Service, pool: Service):
        self.jobs, self.pool = jobs, pool

    def options(self, *extra: str) -> PipelineOptions:
        return PipelineOptions(
            [
                "--runner=PortableRunner",
                f"--job_endpoint=localhost:{self.jobs.port}",
                "--environment_type=EXTERNAL",
                f"--environment_config=localhost:{self.pool.port}",
                *extra,
            ]
        )

    def run(self, pipeline: beam.Pipeline) -> None:
        """Run and wait; a failed job, or one pytest's own timeout interrupts, fails the test with the
        services' output (the SDK workers write theirs to the pool's)."""
        result = pipeline.run()
        try:
            outcome = result.wait_until_finish()
        except BaseException as e:
            with contextlib.suppress(Exception):
                result.cancel()
            outcome = e
        if outcome != "DONE":
            raise AssertionError(
                f"the portable job failed: {outcome!r}\n--- job service ---\n{self.jobs.output()}\n"
                f"--- worker pool and its SDK workers ---\n{self.pool.output()}"
            )


def read_reprs(directory: Path) -> tuple[list[str], set[int]]:
    """The lines the worker wrote (sorted) and the pids that wrote them."""
    lines, pids = [], set()
    for path in directory.glob("*.txt"):
        pids.add(int(path.name.split("-", 1)[0]))
        lines += path.read_text(encoding="utf-8").splitlines()
    return sorted(lines), pids


def assert_written_elsewhere(pids: set[int], portable: Portable) -> None:
    """The fns ran in an SDK worker process: not this one, not the job service, not the pool."""
    assert pids, "the worker wrote nothing"
    assert not pids & {os.getpid(), portable.jobs.process.pid, portable.pool.process.pid}, pids


@pytest.fixture
def rows_installed():
    yield install(record_format="row")
    uninstall()


@pytest.fixture
def records_installed():
    yield install()
    uninstall()


def coder_in_proto(pipeline: beam.Pipeline, pcoll: beam.PCollection):
    """The coder a worker rebuilds for ``pcoll`` from the pipeline proto (its URN and payload only)."""
    context = pipeline_context.PipelineContext()
    proto = pipeline.to_runner_api(context=context)
    coder_id = proto.components.pcollections[context.pcollections.get_id(pcoll)].coder_id
    return proto.components.coders[coder_id].spec.urn, pipeline_context.PipelineContext(
        proto.components
    ).coders.get_by_id(coder_id)


def test_records_travel_as_coderkit_coders_through_map_and_group_by_key(portable, records_installed, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    p = beam.Pipeline(options=portable.options())
    readings = p | beam.Create(pt.READINGS).with_output_types(pt.Reading)
    keyed = readings | beam.Map(pt.by_sensor).with_output_types(beam.typehints.Tuple[str, pt.Reading])
    grouped = keyed | beam.GroupByKey() | beam.Map(pt.sorted_group, sort_key=lambda r: r.at)
    _ = (readings, grouped) | beam.Flatten() | beam.ParDo(pt.WriteReprs(str(out)))
    urn, coder = coder_in_proto(p, readings)
    assert urn == python_urns.PICKLED_CODER == "beam:coder:pickled_python:v1"
    assert coder == CoderkitBeamCoder(get_coder(pt.Reading)) and isinstance(coder.coder, RecordCoder)
    portable.run(p)
    lines, pids = read_reprs(out)
    assert_written_elsewhere(pids, portable)
    expected = [pt.describe(r) for r in pt.READINGS] + [
        pt.describe(("a", [pt.READINGS[0], pt.READINGS[2]])),
        pt.describe(("b", [pt.READINGS[1], pt.READINGS[3]])),
    ]
    assert lines == sorted(expected)


def build_rows_pipeline(options: PipelineOptions, out: Path) -> tuple[beam.Pipeline, beam.PCollection]:
    """Sales made on the worker (by a Map, as a parse step would: no pickled coder in any fn), keyed by
    their Store, a NamedTuple row, grouped; the worker writes what it holds after each shuffle."""
    p = beam.Pipeline(options=options)
    sales = p | beam.Create(range(len(pt.SALES))) | beam.Map(pt.sale_at).with_output_types(pt.Sale) | beam.Reshuffle()
    keyed = sales | beam.Map(pt.by_store).with_output_types(beam.typehints.Tuple[pt.Store, pt.Sale])
    grouped = keyed | beam.GroupByKey() | beam.Map(pt.sorted_group, sort_key=lambda s: s.amount)
    _ = (sales, grouped) | beam.Flatten() | beam.ParDo(pt.WriteReprs(str(out)))
    return p, sales


def test_rows_keep_the_users_classes_and_tuples_through_group_by_key_on_a_row_key(portable, rows_installed, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    p, sales = build_rows_pipeline(portable.options("--beam_plugins=coders.beam.rows"), out)
    urn, coder = coder_in_proto(p, sales)
    assert urn == "beam:coder:row:v1"
    assert coder == CoderkitRowCoder(RowCoder(pt.Sale))
    assert coder.schema.SerializeToString() == RowCoder(pt.Sale).schema.SerializeToString()
    portable.run(p)
    lines, pids = read_reprs(out)
    assert_written_elsewhere(pids, portable)
    eu, refund, us = pt.SALES
    expected = [pt.describe(s) for s in pt.SALES] + [
        pt.describe((pt.Store("eu", 1), [eu, refund])),
        pt.describe((pt.Store("us", 2), [us])),
    ]
    assert lines == sorted(expected)
    assert (
        "portable_types.Sale(store=portable_types.Store(region=str:'eu', number=int:1), skus=(str:'a', str:'b'), "
        "amount=int:5, note=NoneType:None)"
    ) in lines


def test_without_the_plugin_the_worker_decodes_beams_generated_row_classes(portable, rows_installed, tmp_path):
    """Why ``--beam_plugins=coders.beam.rows``: the worker rebuilds coders from the proto, and nothing else
    makes it import coderkit's row constructor, so Beam's RowCoder decodes the same bytes."""
    out = tmp_path / "out"
    out.mkdir()
    p, _ = build_rows_pipeline(portable.options(), out)
    portable.run(p)
    lines, _ = read_reprs(out)
    assert len(lines) == len(pt.SALES) + 2
    assert not any("portable_types.Sale(" in line for line in lines), lines
    assert all("apache_beam.typehints.schemas.BeamSchema_" in line for line in lines), lines


def test_deterministic_group_by_key_groups_minus_zero_with_zero_and_dates_exactly(
    portable, records_installed, tmp_path
):
    out = tmp_path / "out"
    out.mkdir()
    p = beam.Pipeline(options=portable.options())
    floats = p | "Floats" >> beam.Create(pt.FLOAT_KEYED).with_output_types(beam.typehints.Tuple[float, str])
    dates = p | "Dates" >> beam.Create(pt.DATE_KEYED).with_output_types(beam.typehints.Tuple[datetime.date, int])
    float_keys, date_keys = DeterministicGroupByKey(), DeterministicGroupByKey()
    by_float = floats | "ByFloat" >> float_keys
    by_date = dates | "ByDate" >> date_keys
    _ = (
        (by_float, by_date)
        | beam.Flatten()
        | beam.Map(pt.sorted_group, sort_key=None)
        | beam.ParDo(pt.WriteReprs(str(out)))
    )
    portable.run(p)
    lines, pids = read_reprs(out)
    assert_written_elsewhere(pids, portable)
    expected = [
        "(float:0.0, [str:'minus zero', str:'zero'])",
        "(float:1.5, [str:'one and a half'])",
        "(float:-1.5, [str:'minus one and a half'])",
        "(date:datetime.date(2024, 2, 29), [int:1, int:3])",
        "(date:datetime.date(1970, 1, 1), [int:2])",
        "(date:datetime.date(9999, 12, 31), [int:4])",
    ]
    assert lines == sorted(expected)
    assert (float_keys.key_coder, date_keys.key_coder) == (get_coder(float).as_deterministic_coder(), DateCoder())
    assert isinstance(float_keys.key_coder, CanonicalFloatCoder)


def test_a_service_that_cannot_start_fails_with_its_output(tmp_path):
    """The fixtures never skip: a service that exits (or never listens) fails the tests, showing why."""
    service = Service("worker pool", "apache_beam.runners.worker.worker_pool_main", tmp_path, "--port")
    try:
        with pytest.raises(pytest.fail.Exception) as failed:
            service.wait_listening()
    finally:
        service.stop()
    message = str(failed.value)
    assert message.startswith(f"the worker pool exited with 2 before listening on port {service.port}:\n")
    assert "the following arguments are required: --service_port" in message
