"""microwork: a Python client for the microwork dispatcher.

    import microwork
    client = microwork.Client("127.0.0.1:7070", token_file="/tmp/mw/operator.token")
    job = client.submit("examples/demo/contract.yaml")
    for progress in client.watch(job.id):
        pass
    frame = client.results_frame(job.id)
"""

# The generated modules (microwork.v1) may sit in another folder of the path (build/python in a
# checkout): let this package span every `microwork` folder on sys.path.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

from microwork.errors import ContractError, LedgerError, MicroworkError  # noqa: E402
from microwork.client import Client, CheckReport, Invoice, Progress, Submitted  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "Client",
    "CheckReport",
    "ContractError",
    "Invoice",
    "LedgerError",
    "MicroworkError",
    "Progress",
    "Submitted",
]
