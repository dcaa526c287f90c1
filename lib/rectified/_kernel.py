"""A kernel provisioner that launches local kernels with CurveZMQ transport encryption.

Without it, ipykernel warns on every start that it "is running over TCP without
encryption" (jupyter_client provisions encryption only when asked). The book's build and
notebook tests select this provisioner through ``JUPYTER_DEFAULT_PROVISIONER_NAME``
(see the Makefile), so kernels start encrypted and the warning never arises.
"""

from jupyter_client.provisioning import LocalProvisioner


class EncryptedLocalProvisioner(LocalProvisioner):
    """The local provisioner with ``transport_encryption='auto'``: kernels whose kernelspec
    declares CurveZMQ support (ipykernel's does) get manager-provisioned keys."""

    async def pre_launch(self, **kwargs):
        kwargs.setdefault("transport_encryption", "auto")
        return await super().pre_launch(**kwargs)
