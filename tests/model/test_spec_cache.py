"""An association spec derived from another (other rights) does not share its derived data."""

from __future__ import annotations

from dataclasses import replace

from simulator.model.catalogue import SHIPPED_DIR
from simulator.model.loader import load_model


def test_a_replaced_association_spec_starts_with_its_own_cache() -> None:
    public = load_model(SHIPPED_DIR / "idis_poly.yaml").logical_devices[1].associations[16]
    public.cache["probe"] = "the public client's object list"
    try:
        wider = replace(public, rights={}, pre_established=True)
        assert wider.cache == {} and wider.cache is not public.cache
    finally:
        del public.cache["probe"]
