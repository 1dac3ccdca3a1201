"""The asyncio runtime: the only layer that touches sockets, serial ports, the event loop and the wall clock.

Transports (tcp, udp, hdlc_stream, serial) are thin adapters that move bytes between the loop
and the sans-IO core; `fleet` owns the meters (built on first contact) and `engine` the
listening endpoints, the single loop-wide timer and shutdown.
"""
