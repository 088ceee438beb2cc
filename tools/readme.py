"""Write README.md from nbs/index.ipynb (quarto and nbconvert are not installed here): markdown cells as they are,
code cells fenced, each followed by its saved text output. usage: python tools/readme.py"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
cells = json.loads((ROOT/"nbs"/"index.ipynb").read_text())["cells"]
out = []
for c in cells:
    src = "".join(c["source"]).strip("\n")
    if c["cell_type"] == "markdown": out.append(src)
    elif c["cell_type"] == "code" and not src.startswith("#| hide"):
        out.append("```python\n" + src + "\n```")
        text = "".join("".join(o.get("text", "")) or "".join(o.get("data", {}).get("text/plain", "")) for o in c.get("outputs", []))
        if text.strip(): out.append("```\n" + text.rstrip("\n") + "\n```")
(ROOT/"README.md").write_text("\n\n".join(out) + "\n")
print(f"README.md written from nbs/index.ipynb ({len(cells)} cells)")
