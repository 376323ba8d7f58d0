"""Docker engines a run's processes go to: naming them, connecting, fingerprinting.

An engine is a Docker daemon on some machine, reached through the Python SDK: the local
socket, `unix:///other.sock` (a second daemon here), `tcp://host:2376` with TLS client
files, or `ssh://user@host` (the `ssh` binary and its config, as the docker CLI does).
No agent of ours runs there: the engine's API is enough to copy files in and out, run a
container pinned to a CPU set and signal it.

`--engines` takes `[NAME=]URL[#cpus=LIST]` items, comma-separated; a TOML `[[engine]]`
list takes the same as keys (name, url, tls_ca, tls_cert, tls_key, cpus).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.constants
import docker.errors
import requests.exceptions
from pydantic import ValidationError

from harness.errors import EnvironmentProblem, UsageError
from harness.rundir import EngineSpec, Machine
from harness.toolchains import ensure_builder_image

DEFAULT_ENGINE = EngineSpec(name="local", url="env")
API_TIMEOUT_S = 60

# What a vanished engine looks like through the SDK: the socket or host is gone, or the
# daemon answers 5xx while shutting down. Caught as EngineLost by the shard stage.
CONNECTION_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    ConnectionError,
)


class EngineLost(Exception):
    """The engine stopped answering: its unfinished block goes to another engine."""


def parse_engines(text: str) -> list[EngineSpec]:
    """`--engines` → specs. `[NAME=]URL[#cpus=LIST]`, comma-separated; the default name is
    the socket's file name (unix) or host:port (tcp, ssh)."""
    specs = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        name, sep, rest = raw.partition("=")
        if not sep or "://" in name:
            name, rest = "", raw
        url, _, fragment = rest.partition("#")
        cpus = None
        if fragment:
            key, _, value = fragment.partition("=")
            if key != "cpus" or not value:
                raise UsageError(f"--engines: {raw!r}: after # only cpus=LIST (e.g. #cpus=0-1)")
            cpus = value
        specs.append(_spec(name or default_name(url), url, cpus=cpus, where=f"--engines {raw!r}"))
    if not specs:
        raise UsageError("--engines: no engine given")
    _unique(specs, "--engines")
    return specs


def _unique(specs: list[EngineSpec], where: str) -> None:
    names = [s.name for s in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"{where}: engine names repeat ({', '.join(repeated)}): give NAME=URL")


def engines_from_toml(path: Path) -> list[EngineSpec]:
    """The `[[engine]]` tables of a TOML file (may be the run's --config)."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from exc
    tables = data.get("engine", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise UsageError(f"{path}: `engine` must be a list of tables ([[engine]])")
    specs = []
    for index, table in enumerate(tables):
        where = f"{path}: engine[{index}]"
        fields = dict(table)
        url = fields.pop("url", None)
        if not isinstance(url, str):
            raise UsageError(f"{where}: no `url`")
        name = fields.pop("name", None) or default_name(url)
        specs.append(_spec(name, url, where=where, **fields))
    _unique(specs, str(path))
    return specs


def _spec(name: str, url: str, *, where: str, **fields) -> EngineSpec:
    try:
        return EngineSpec(name=name, url=url, **fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        raise UsageError(f"{where}: {problems}") from None


def default_name(url: str) -> str:
    if url == "env":
        return "local"
    scheme, _, rest = url.partition("://")
    if scheme == "unix":
        base = Path(rest).name.removesuffix(".sock")
    else:
        base = rest.split("@")[-1].strip("/")
    return re.sub(r"[^A-Za-z0-9_.-]", "-", base).strip("-.") or "engine"


def connect(spec: EngineSpec) -> docker.DockerClient:
    """A client whose engine answered a ping; EnvironmentProblem (exit 2) naming it if not."""
    try:
        if spec.url == "env":
            client = docker.from_env(timeout=API_TIMEOUT_S)
        else:
            tls = None
            if spec.tls_cert or spec.tls_ca:
                tls = docker.tls.TLSConfig(
                    client_cert=(spec.tls_cert, spec.tls_key) if spec.tls_cert else None,
                    ca_cert=spec.tls_ca,
                    verify=bool(spec.tls_ca),
                )
            # An explicit version: the constructor then sends nothing, so trust_env can
            # go first. requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace a
            # session's own CA (psf/requests#3829): with them set (Debian sets them),
            # the daemon's CA would be ignored and every TLS engine refused.
            client = docker.DockerClient(
                base_url=spec.url,
                tls=tls,
                timeout=API_TIMEOUT_S,
                use_ssh_client=spec.url.startswith("ssh://"),
                version=docker.constants.DEFAULT_DOCKER_API_VERSION,
            )
            if tls is not None:
                client.api.trust_env = False
            client.api._version = client.api._retrieve_server_version()  # what "auto" does
        client.ping()
    except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
        raise EnvironmentProblem(
            f"engine {spec.name} ({spec.url}) does not answer: {str(exc).splitlines()[0][:200]}"
        ) from exc
    return client


@dataclass
class Engine:
    """A connected engine, ready to run processes: its client, runner image and machine."""

    spec: EngineSpec
    client: docker.DockerClient
    image: str
    machine: Machine

    @property
    def name(self) -> str:
        return self.spec.name


# Read in a probe container pinned like the benchmarks: what the engine's `docker info`
# does not say (the CPU model, the CPUs a container really gets, governor, THP).
_PROBE = r"""
grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2-
grep '^Cpus_allowed_list' /proc/self/status | cut -f2
cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor 2>/dev/null || echo
cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo
"""


def open_engine(spec: EngineSpec) -> Engine:
    """Connect, make sure the runner image is there, fingerprint the machine."""
    client = connect(spec)
    # The runner image is the builder image: a Debian minbase with sh and cat is all a
    # static (CGO_ENABLED=0) Go test binary and the wrapper script need.
    image = ensure_builder_image(client).tag
    try:
        info = client.info()
        probe = client.containers.run(
            image,
            ["sh", "-c", _PROBE],
            network_mode="none",
            cpuset_cpus=spec.cpus,
            remove=True,
            stdout=True,
            stderr=True,
        )
    except docker.errors.DockerException as exc:
        raise EnvironmentProblem(f"engine {spec.name}: probe container failed: {exc}") from exc
    lines = [*probe.decode("utf-8", "replace").splitlines(), "", "", "", ""]
    machine = Machine(
        hostname=info.get("Name"),
        kernel=info.get("KernelVersion"),
        machine=info.get("Architecture"),
        cpu_model=lines[0].strip() or None,
        cores=info.get("NCPU"),
        affinity=cpu_ids(lines[1].strip()),
        governor=lines[2].strip() or None,
        thp=lines[3].strip() or None,
        docker=info.get("ServerVersion"),
        engine_url=spec.url,
        engine_id=info.get("ID"),
        operating_system=info.get("OperatingSystem"),
        memory_bytes=info.get("MemTotal"),
        cgroup_version=info.get("CgroupVersion"),
    )
    return Engine(spec=spec, client=client, image=image, machine=machine)


def cpu_ids(text: str) -> list[int]:
    """'0-2,5' → [0, 1, 2, 5] (a Linux CPU list, as in cpuset and /proc/*/status)."""
    ids: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            ids.extend(range(int(low), int(high or low) + 1))
        except ValueError:
            return []
    return ids
