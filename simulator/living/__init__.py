"""Living meters: what a meter measures, computed from time when it is read.

A real meter's registers move because a house behind it draws power; ours move because every
value is a pure function of (the meter type's living model, the meter's seed, the fleet's
time) plus the few things that happened to this one meter (a client's SET, a disconnect, a
logged event), which its `MeterState` keeps. Nothing here runs by itself: no task, no timer.
An idle meter costs nothing, and the same meter at the same instant reads the same value in
every run.

- `noise`: deterministic hashing, the only source of randomness (seeded per meter);
- `meter`: `LivingMeter`, what one meter's behaviours need (seed, installation, models, a
  derived cache that may be dropped at any time);
- `load`: the load model (day shapes, season, solar, phases) and its closed-form integrals:
  energy between any two instants in O(1), instantaneous values at any instant;
- `events`: the seeded event generator (power failures, sags, swells, tamper...).

Instants here are fleet epochs (UTC seconds of the fleet's time base, before a meter's own
clock offset): physics does not move when a client sets a meter's clock.
"""
