"""`moda dataset push DIR REPO_ID`: upload a built dataset folder to the Hub (one `upload_folder` call)."""

from __future__ import annotations

from pathlib import Path


def push_dataset(folder: str | Path, repo_id: str, private: bool = False) -> str:
    """Create the dataset repo if needed and upload the card, data and rejects (not the response cache, nor
    the feature cache training keeps beside a local dataset)."""
    from huggingface_hub import HfApi

    folder = Path(folder)
    if not (folder / "README.md").is_file() or not (folder / "data").is_dir():
        raise ValueError(f"{folder} is not a built dataset folder (no README.md or data/)")
    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    commit = api.upload_folder(
        repo_id=repo_id,
        repo_type="dataset",
        folder_path=str(folder),
        ignore_patterns=[".moda/*", "feature_cache/*", "*.tmp"],
    )
    return str(commit)
