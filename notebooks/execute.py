"""Executes one notebook headless with nbclient (what `jupyter nbconvert --execute` runs), for
notebooks/run.mjs.

    python3 notebooks/execute.py NOTEBOOK OUTPUT [--kernel deno] [--timeout 600] [--grace 0.2]

Exit 0 and OUTPUT written when every cell ran and every SVG it drew is well-formed XML (a browser
forgives a repeated attribute inside HTML, a standalone SVG viewer does not); exit 1, with the
failing cell and its error, otherwise (nothing written). The kernel runs in the notebook's directory.

Why not plain nbconvert: Deno's kernel (2.x) sometimes sends a cell's display messages just after
it reports the cell finished ("idle"), and nbclient stops reading a cell's messages at idle, so a
chart or table could silently go missing from the executed notebook. This client keeps reading
the cell's messages until the kernel has been quiet for `--grace` seconds.
"""
import argparse
import asyncio
import inspect
import os
import queue
import sys
import xml.etree.ElementTree as ElementTree

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellExecutionError


async def ensure_async(value):
    return await value if inspect.isawaitable(value) else value


class LateOutputClient(NotebookClient):
    grace_seconds = 0.2

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        # Idle was seen: collect what the kernel still sends for this cell until it is quiet.
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=self.grace_seconds))
            except (queue.Empty, asyncio.TimeoutError):
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebook")
    parser.add_argument("output")
    parser.add_argument("--kernel", default="deno")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--grace", type=float, default=0.2, help="seconds of quiet after a cell before the next")
    args = parser.parse_args()

    if not hasattr(NotebookClient, "_async_poll_output_msg"):
        print("execute.py: this nbclient has no _async_poll_output_msg; late kernel output may be lost", file=sys.stderr)
    nb = nbformat.read(args.notebook, as_version=4)
    client = LateOutputClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=120,
        # No per-cell timestamps: the committed outputs change only when the results do.
        record_timing=False,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
    )
    client.grace_seconds = args.grace
    try:
        client.execute()
    except CellExecutionError as error:
        print(f"{os.path.basename(args.notebook)}: a cell raised an error\n{error}", file=sys.stderr)
        return 1
    bad = malformed_svgs(nb)
    if bad:
        print(f"{os.path.basename(args.notebook)}: " + "; ".join(bad), file=sys.stderr)
        return 1
    nbformat.write(nb, args.output)
    return 0


def malformed_svgs(nb):
    """Every image/svg+xml output must parse as XML; returns what is wrong, by cell."""
    problems = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            svg = output.get("data", {}).get("image/svg+xml")
            if svg is None:
                continue
            try:
                ElementTree.fromstring(svg)
            except ElementTree.ParseError as error:
                first_line = cell.source.split("\n")[0]
                problems.append(f"cell {index + 1} ({first_line}) drew an SVG that is not well-formed XML: {error}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
