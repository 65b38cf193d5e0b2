"""`spin-detect seal-model`: record the size and sha256 of a model folder's files in its manifest.json.

`SpinScorer.save`, ``training.calibrate`` and ``training.fit_decisions`` keep the manifest up to date
themselves; this command is for a folder changed on purpose by hand (a calibration or decisions.json
copied in) or saved before manifests existed. It refuses a folder that lacks a file a model needs or
that does not load, and leaves its previous manifest in place then. A checksum is not a signature:
it shows that the files are the ones sealed, not who sealed them (`detector.model_manifest`). A thin
wrapper over `detector.seal.seal_model_folder`, which returns what was sealed.

Example:
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(seal_model, ["--help"]).exit_code
    0
"""

from __future__ import annotations

import click

from detector.seal import seal_model_folder

__all__ = ["seal_model"]


@click.command("seal-model")
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False))
def seal_model(folders: tuple[str, ...]) -> None:
    """Record the size and sha256 of every file of each model FOLDER in its manifest.json.

    \b
    Only for a folder whose files you trust as they are: loading checks them against the manifest,
    and anyone who can write the folder can seal it. README.md and training.json are not checked.
    """
    for folder in folders:
        sealed = seal_model_folder(folder)
        count = len(sealed["files"])
        click.echo(f"sealed {sealed['folder']}: {count} file{'s' * (count != 1)}, {sealed['bytes']:,} bytes "
                   f"({', '.join(sealed['files'])})")
