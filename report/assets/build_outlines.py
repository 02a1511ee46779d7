"""Build `europe_outlines.geojson` (the report map's background: country outlines around
Germany) from world-atlas' Natural Earth 1:50m TopoJSON. Run once when the asset changes:

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python report/assets/build_outlines.py package/countries-50m.json

Natural Earth is public domain; world-atlas is ISC (LICENSE-world-atlas).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

#: lon/lat box the report map shows: Germany and its neighbours
BOX = (-5.0, 42.0, 25.0, 58.5)


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((round(x * sx + tx, 3), round(y * sy + ty, 3)))
        arcs.append(points)
    return arcs


def ring(arcs: list, indexes: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


def in_box(polygon: list) -> bool:
    return any(BOX[0] <= x <= BOX[2] and BOX[1] <= y <= BOX[3] for x, y in polygon[0])


def main(path: str) -> None:
    topology = json.loads(Path(path).read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        shapes = [[ring(arcs, r) for r in polygon] for polygon in polygons]
        shapes = [shape for shape in shapes if in_box(shape)]
        if shapes:
            features.append({"type": "Feature", "properties": {"name": geometry["properties"]["name"]},
                             "geometry": {"type": "MultiPolygon", "coordinates": shapes}})
    out = Path(__file__).with_name("europe_outlines.geojson")
    out.write_text(json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")),
                   encoding="utf-8")
    print(f"{len(features)} countries → {out} ({out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main(sys.argv[1])
