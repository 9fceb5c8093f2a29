"""Every Jupyter kernel the project's tools start talks over a private Unix socket.

jupyter_client's default transport is TCP on 127.0.0.1, and since ipykernel 7 each kernel
started that way logs ``WARNING | Kernel is running over TCP without encryption``: any
local user could connect to it. Over IPC the kernel listens on Unix sockets instead, here
in a directory that only this user can open (``tempfile.mkdtemp`` makes it mode 0700), so
the warning's cause is gone rather than its message hidden.

The same call stops one more line of noise at its cause. jupyter_client 8 interrupts
every kernel (SIGINT) before it asks it to shut down, in case it is still running code;
an idle ipykernel 7 that the signal reaches while it handles a message logs ``ERROR |
KeyboardInterrupt caught in kernel``, on about one chapter in three. Our tools shut a
kernel down when its notebook has finished, so the interrupt is skipped there; a kernel
that is still busy does not answer the shutdown request and is stopped with SIGTERM, then
SIGKILL, as before. (nbclient's interrupt of a cell that runs past its timeout, the
grader's, is a separate call and still happens.)

Every tool that starts kernels calls :func:`use_ipc_transport` first: ``prewarm`` and
``execute`` directly, the book build by loading this module as a Sphinx extension
(``local_extensions`` in ``_config.yml``), and nbval as a pytest plugin
(``pytest -p tests.tools.kernels``). jupyter_client has no setting these
tools read, so this makes IPC the default of ``KernelManager`` itself. Windows has no
Unix sockets; there nothing changes (learners on Windows use WSL, which is Linux).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid

_applied = False


def use_ipc_transport() -> None:
    """Make IPC, in a private temporary directory, the default for new kernels."""
    global _applied
    if _applied or os.name == "nt":
        return
    from jupyter_client.manager import KernelManager

    socket_dir = tempfile.mkdtemp(prefix="relu-lab-kernels-")
    atexit.register(shutil.rmtree, socket_dir, ignore_errors=True)
    original_init = KernelManager.__init__

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("transport", "ipc")
        if kwargs["transport"] == "ipc":
            # One name per kernel, so that two kernels never pick the same socket files.
            kwargs.setdefault("ip", os.path.join(socket_dir, uuid.uuid4().hex[:12]))
        original_init(self, *args, **kwargs)

    KernelManager.__init__ = __init__

    original_interrupt = KernelManager._async_interrupt_kernel

    async def _async_interrupt_kernel(self):
        if getattr(self, "shutting_down", False):
            return  # the shutdown request follows; see the module's docstring
        await original_interrupt(self)

    KernelManager._async_interrupt_kernel = _async_interrupt_kernel
    _applied = True


def pytest_configure(config) -> None:  # pytest -p tests.tools.kernels
    use_ipc_transport()


def setup(app):  # a Sphinx extension, for the kernels myst-nb starts during a build
    use_ipc_transport()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
