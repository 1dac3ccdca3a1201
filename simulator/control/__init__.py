"""The control plane for test rigs: an HTTP API, Prometheus metrics, a live trace and a web UI,
served by the same process and event loop as the meters (aiohttp), above simulator/runtime/."""
