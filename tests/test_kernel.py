"""The kernel provisioner that starts notebook kernels with transport encryption."""

from importlib.metadata import entry_points

from jupyter_client import KernelManager

from rectified._kernel import EncryptedLocalProvisioner


def test_provisioner_is_registered_under_its_name():
    names = {e.name: e for e in entry_points(group="jupyter_client.kernel_provisioners")}
    assert names["rectified-encrypted"].load() is EncryptedLocalProvisioner


def test_kernels_start_with_curve_keys_instead_of_plain_tcp(monkeypatch):
    monkeypatch.setenv("JUPYTER_DEFAULT_PROVISIONER_NAME", "rectified-encrypted")
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    try:
        assert isinstance(km.provisioner, EncryptedLocalProvisioner)
        assert km.curve_publickey is not None and km.curve_secretkey is not None
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        client.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
