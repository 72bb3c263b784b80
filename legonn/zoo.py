"""Model zoo: packed LegoNN models (or experiment directories) in, decoding out.

    from legonn.zoo import LegoNNInference, load_model
    model, train_args = load_model("wmt14_legonn_wemb.zip")        # or "exp/legonn_wemb"
    translate = LegoNNInference.from_pretrained("wmt14_legonn_wemb.zip", beam_size=5)
    translate("ein kleiner Test")[0].text

Archives are written by `python -m legonn.bin.pack model ...` in ESPnet's pack format (meta.yaml,
the training config with its file paths rewritten, the weights, every interface and the feature
statistics), so espnet2.main_funcs.pack_funcs.unpack and espnet_model_zoo open them too.
Everything here is legonn.inference's; this module is the zoo's short name for it.
"""
from legonn.inference import LegoNNInference, Result, locate

__all__ = ["LegoNNInference", "Result", "load_model", "locate"]


def load_model(source, device: str = "cpu", cache_dir=None):
    """(model in eval mode, training args) of a packed model or an experiment directory.
    Archives are unpacked once into `cache_dir` (default ~/.cache/legonn, or $LEGONN_CACHE)."""
    inference = LegoNNInference.from_pretrained(source, device, cache_dir)
    return inference.model, inference.train_args
