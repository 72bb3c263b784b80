"""Times training steps of legonn's models against ESPnet's own MT transformer, on identical
batches of the Multi30k recipe's real data, and times the recipe's real loader.

    cd egs2/multi30k/mt1 && ./run.sh --stage 1 --stop_stage 1    # data, interfaces, dumps
    tools/venv/bin/python bench/train_step.py [--steps 20 --threads 1]
    tools/venv/bin/python bench/train_step.py --steps 3 --profile "LegoNN WEmb"   # where its time goes
    tools/venv/bin/python bench/train_step.py --also train_legonn_wemb_ffn256 --profile train_legonn_wemb_ffn256
    tools/venv/bin/python bench/train_step.py --steps 3 --flops_by_module   # which parts do the arithmetic
    tools/venv/bin/python bench/train_step.py --bf16    # mixed precision: forward passes under CPU bfloat16 autocast
    tools/venv/bin/python bench/train_step.py --compile --warmup 3   # legonn's blocks under torch.compile
    tools/venv/bin/python bench/train_step.py --also train_legonn_wemb_olc3 train_encdec_enc6   # more configs

Models, all built from the recipe's configs (egs2/multi30k/mt1/conf/train_*.yaml):
- legonn enc-dec (train_encdec.yaml), LegoNN WEmb and BeamConv (train_legonn_*.yaml);
- ESPnet's `espnet2.tasks.mt.MTTask` model with the enc-dec's dimensions, layers, vocabularies,
  dropout, label smoothing and tied decoder embeddings (pre-LN transformer, token-embedding
  frontend), i.e. what an ESPnet user would train for the same baseline.
A step is forward + backward + Adam update; its FLOPs (torch.utils.flop_counter, over the same
batches) say how much of a step's time is the model's size rather than how it is computed.
Every model gets the same batches: the recipe's training sentences, tokenized with its
interfaces and cut into length-sorted batches of `batch_bins` tokens (source + target), as
ESPnet's numel batching does. Models are timed in
turn, one step each, so that load from other processes falls on all of them alike.

With `--bf16`, every model's forward pass runs under torch.autocast("cpu", bfloat16), as the
recipes' trainings do with `--use_amp true` (legonn/tasks/trainer.py): on a CPU with AVX-512
bfloat16 instructions, the matrix products run several times faster than in float32.

With `--compile`, each transformer block of legonn's models runs under `torch.compile` (inductor,
dynamic shapes: batch shapes vary). Blocks, because compiling a whole model failed in a trial
(torch 2.12.1, AOT autograd on the enc-dec's loss: "incorrect out shape after application of
ViewMeta sequence"). ESPnet's model stays eager, so its column is the yardstick between a run with `--compile` and
one without. Compilation happens in the warm-up steps; give it enough of them for the shapes to
stop recompiling.

The loader line times the recipe's own data path: ESPnet's sequence iterator over the same
dump (text reading, legonn's preprocessor, collation) for the first batches of an epoch.

Targets (issue 14): legonn enc-dec step no slower than ESPnet's (ratio <= 1.0); LegoNN WEmb
step at most 1.3x legonn's enc-dec step.
"""
import argparse
import random
import time
from argparse import Namespace
from pathlib import Path

import torch
import yaml

RECIPE = Path(__file__).resolve().parents[1] / "egs2/multi30k/mt1"
LEGONN_MODELS = {"legonn enc-dec": "train_encdec", "LegoNN WEmb": "train_legonn_wemb",
                 "LegoNN BeamConv": "train_legonn_beamconv"}


def interface_path(name: str) -> str:
    path = RECIPE / f"data/interfaces/{name}/interface.yaml"
    if not path.is_file():
        raise SystemExit(f"{path} not found: run `./run.sh --stage 1 --stop_stage 1` in {RECIPE}")
    return str(path)


def read_config(name: str) -> dict:
    return yaml.safe_load((RECIPE / f"conf/{name}.yaml").read_text())


def build_legonn(config_name: str):
    from legonn.tasks.mt import MTTask
    config = read_config(config_name)
    has_interface = config.get("ingestor", "wemb") not in (None, "none")
    args = Namespace(encoder_conf=config["encoder_conf"], decoder_conf=config.get("decoder_conf", {}),
                     ingestor=config.get("ingestor", "wemb"), ingestor_conf=config.get("ingestor_conf", {}),
                     decoder=config.get("decoder", "transformer"), model_conf=config.get("model_conf", {}),
                     middle_modules=[], input_marginals=None,
                     interfaces=[interface_path("en")] if has_interface else [],
                     ctc_targets=["text"] if has_interface else [],
                     output_interface=interface_path("en"), input_interface=interface_path("de"))
    return MTTask.build_model(args), config


def build_espnet(encdec: dict, src_tokens, tgt_tokens):
    """ESPnet's MT transformer with the legonn enc-dec's sizes."""
    from espnet2.tasks.mt import MTTask
    enc, dec = encdec["encoder_conf"], encdec["decoder_conf"]
    args = MTTask.get_parser().parse_args([])
    args.token_list, args.src_token_list = list(tgt_tokens), list(src_tokens)
    args.input_size = None
    args.frontend, args.frontend_conf = "embed", {"embed_dim": enc["dim"], "positional_dropout_rate": enc["dropout"]}
    args.encoder = "transformer"
    args.encoder_conf = {"output_size": enc["dim"], "attention_heads": enc["heads"],
                         "linear_units": enc["ffn_dim"], "num_blocks": enc["layers"],
                         "dropout_rate": enc["dropout"], "positional_dropout_rate": enc["dropout"],
                         "attention_dropout_rate": 0.0, "input_layer": None, "normalize_before": True}
    args.decoder = "transformer"
    args.decoder_conf = {"attention_heads": dec["heads"], "linear_units": dec["ffn_dim"],
                         "num_blocks": dec["layers"], "dropout_rate": dec["dropout"],
                         "positional_dropout_rate": dec["dropout"], "self_attention_dropout_rate": 0.0,
                         "src_attention_dropout_rate": 0.0}
    args.model_conf = {"lsm_weight": encdec["model_conf"]["lsm_weight"], "report_bleu": False,
                       "share_decoder_input_output_embed": True}
    args.init = None
    return MTTask.build_model(args)


def make_batches(batch_bins: int, count: int, seed: int):
    """`count` length-sorted batches of the recipe's training sentences, as numel batching cuts
    them, token ids padded with -1 (what ESPnet's collate function gives both model kinds)."""
    from legonn.nets.interface import Interface
    from legonn.tokenizer import Tokenizer
    src_tok, tgt_tok = Tokenizer(Interface.load(interface_path("de"))), Tokenizer(Interface.load(interface_path("en")))
    rows = {}
    for key, file in (("src", "src_text"), ("tgt", "text")):
        for line in (RECIPE / f"dump/train_de/{file}").read_text(encoding="utf-8").splitlines():
            uid, _, text = line.partition(" ")
            rows.setdefault(uid, {})[key] = text
    pairs = sorted(((src_tok.encode(r["src"]), tgt_tok.encode(r["tgt"])) for r in rows.values()),
                   key=lambda p: len(p[0]) + len(p[1]))
    batches, current, bins = [], [], 0
    for src, tgt in pairs:
        if current and bins + len(src) + len(tgt) > batch_bins:
            batches.append(current)
            current, bins = [], 0
        current.append((src, tgt))
        bins += len(src) + len(tgt)
    random.Random(seed).shuffle(batches)
    return [collate(b) for b in batches[:count]], src_tok.interface.tokens, tgt_tok.interface.tokens


def collate(pairs):
    def pad(seqs):
        out = torch.full((len(seqs), max(map(len, seqs))), -1, dtype=torch.long)
        for i, s in enumerate(seqs):
            out[i, :len(s)] = torch.tensor(s)
        return out, torch.tensor([len(s) for s in seqs])
    src, src_lengths = pad([p[0] for p in pairs])
    tgt, tgt_lengths = pad([p[1] for p in pairs])
    # The LegoNN interface's CTC target is the English text itself (the recipe's ctc_targets).
    return {"src_text": src, "src_text_lengths": src_lengths, "text": tgt, "text_lengths": tgt_lengths,
            "ctc0": tgt, "ctc0_lengths": tgt_lengths}


def compile_blocks(models):
    from legonn.nets.layers import TransformerBlock
    for model in models:
        for block in (m for m in model.modules() if isinstance(m, TransformerBlock)):
            block.compile(dynamic=True)


def train_step(model, optimizer, batch, bf16=False):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = model(**batch)[0]
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def count_cpu_attention():
    """torch.utils.flop_counter has formulas for SDPA's CUDA kernels only: give its CPU kernel,
    the one legonn's attention runs here, the same ones (ESPnet's attention is counted as the
    matrix products it is made of)."""
    from torch.utils import flop_counter
    aten = torch.ops.aten

    @flop_counter.register_flop_formula(aten._scaled_dot_product_flash_attention_for_cpu)
    def forward(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs):
        return flop_counter.sdpa_flop_count(query_shape, key_shape, value_shape)

    @flop_counter.register_flop_formula(aten._scaled_dot_product_flash_attention_for_cpu_backward)
    def backward(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs):
        return flop_counter.sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


def flops_per_step(model, optimizer, batches, bf16) -> float:
    """Floating-point operations of a training step (matrix products and attention, as
    torch.utils.flop_counter counts them), averaged over `batches`: what the step must compute,
    against which its time says how efficiently it does."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        for batch in batches:
            train_step(model, optimizer, batch, bf16)
    return counter.get_total_flops() / len(batches)


def forward_flops_by_module(model, batches) -> dict[str, float]:
    """Forward FLOPs per batch of each part of `model` (torch.utils.flop_counter's module
    tracking), down to the OLC, the CTC head, the ingestor and the decoder's output layer. Forward
    only: the counter attributes the backward pass's work to modules less reliably, and it does
    about twice each part's forward work."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False, depth=None)
    with counter, torch.no_grad():
        for batch in batches:
            model(**batch)
    return {name: sum(ops.values()) / len(batches) for name, ops in counter.get_flop_counts().items()
            if name != "Global" and name.count(".") <= 3 and ".blocks." not in name}


def time_loader(batches: int):
    """Seconds per batch of the recipe's real data path (ESPnet iterator + legonn preprocessor)."""
    from legonn.tasks.mt import MTTask
    exp = next((p.parent for p in sorted(RECIPE.glob("exp/de_*/config.yaml"))), None)
    if exp is None:
        return None, "no exp/de_*/config.yaml (train one recipe model first)"
    args = Namespace(**yaml.safe_load((exp / "config.yaml").read_text()))
    import os
    cwd = os.getcwd()
    os.chdir(RECIPE)  # the config's paths are relative to the recipe
    try:
        options = MTTask.build_iter_options(args, Namespace(distributed=False), "train")
        iterator = MTTask.build_sequence_iter_factory(args, options, "train").build_iter(1)
        start, seen = time.perf_counter(), 0
        for _ in iterator:
            seen += 1
            if seen == batches:
                break
        return (time.perf_counter() - start) / seen, f"{exp.name}'s config, {seen} batches"
    finally:
        os.chdir(cwd)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per model")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the recipe trains with 1)")
    parser.add_argument("--batch_bins", type=int, default=None, help="default: train_encdec.yaml's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true",
                        help="run each transformer block of legonn's models under torch.compile")
    parser.add_argument("--bf16", action="store_true",
                        help="every model's forward pass under torch.autocast('cpu', bfloat16)")
    parser.add_argument("--profile", metavar="MODEL",
                        help="instead of the table: torch.profiler's costliest operators in MODEL's timed "
                             "steps (a name of the table, e.g. 'LegoNN WEmb', or a config given to --also)")
    parser.add_argument("--flops_by_module", action="store_true",
                        help="instead of the table: each legonn model's forward GFLOP per batch, part by part")
    parser.add_argument("--also", nargs="+", default=[], metavar="CONFIG",
                        help="more of the recipe's configs to time beside them, e.g. train_legonn_wemb_olc3")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    configs = {**LEGONN_MODELS, **{config: config for config in args.also}}
    models = {name: build_legonn(config)[0] for name, config in configs.items()}
    encdec_config = read_config(LEGONN_MODELS["legonn enc-dec"])
    batch_bins = args.batch_bins or encdec_config["batch_bins"]
    batches, src_tokens, tgt_tokens = make_batches(batch_bins, args.warmup + args.steps, args.seed)
    if args.compile:
        compile_blocks(models.values())
    models = {"ESPnet MT transformer": build_espnet(encdec_config, src_tokens, tgt_tokens), **models}
    # fused: what legonn's recipes step on CPU (LegoNNTask.build_optimizers); every model alike
    optimizers = {name: torch.optim.Adam(m.parameters(), lr=1e-4, fused=True) for name, m in models.items()}
    for model in models.values():
        model.train()

    if args.flops_by_module:
        count_cpu_attention()
        for name, model in models.items():
            if name != "ESPnet MT transformer":
                print(f"| {name} | forward GFLOP/batch | share |\n|---|---|---|")
                parts = forward_flops_by_module(model, batches[args.warmup:])
                total = parts[type(model).__name__]
                for part, flops in sorted(parts.items()):
                    print(f"| {part} | {flops / 1e9:.2f} | {flops / total:.1%} |")
        return
    if args.profile:
        if args.profile not in models:
            parser.error(f"--profile {args.profile!r}: not one of {list(models)}")
        models = {args.profile: models[args.profile]}
    for batch in batches[:args.warmup]:
        for name, model in models.items():
            train_step(model, optimizers[name], batch, args.bf16)
    if args.profile:
        with torch.profiler.profile() as profile:
            for batch in batches[args.warmup:]:
                train_step(models[args.profile], optimizers[args.profile], batch, args.bf16)
        print(profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))
        return
    seconds = dict.fromkeys(models, 0.0)
    for batch in batches[args.warmup:]:
        for name, model in models.items():
            start = time.perf_counter()
            train_step(model, optimizers[name], batch, args.bf16)
            seconds[name] += time.perf_counter() - start
    count_cpu_attention()
    flops = {name: flops_per_step(model, optimizers[name], batches[args.warmup:], args.bf16)
             for name, model in models.items()}
    target_tokens = sum(int(b["text_lengths"].sum()) for b in batches[args.warmup:])
    sentences = sum(len(b["text_lengths"]) for b in batches[args.warmup:])

    espnet, encdec = seconds["ESPnet MT transformer"], seconds["legonn enc-dec"]
    compiled = ", legonn's transformer blocks under torch.compile" if args.compile else ""
    compiled += ", forward passes under bfloat16 autocast" if args.bf16 else ""
    print(f"{args.steps} steps of {sentences / args.steps:.0f} sentences on average (batch_bins "
          f"{batch_bins}), {args.threads} thread(s), torch {torch.__version__}{compiled}")
    print("| model | params (M) | s/step | steps/s | target tokens/s | vs ESPnet | vs legonn enc-dec "
          "| GFLOP/step | FLOPs vs legonn enc-dec |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, model in models.items():
        step = seconds[name] / args.steps
        params = sum(p.numel() for p in model.parameters()) / 1e6
        print(f"| {name} | {params:.1f} | {step:.3f} | {1 / step:.2f} | {target_tokens / seconds[name]:.0f} "
              f"| {seconds[name] / espnet:.2f}x | {seconds[name] / encdec:.2f}x "
              f"| {flops[name] / 1e9:.1f} | {flops[name] / flops['legonn enc-dec']:.2f}x |")
    print(f"target: legonn enc-dec <= 1.00x ESPnet: {encdec / espnet:.2f}x "
          f"({'met' if encdec <= espnet else 'not met'}); LegoNN WEmb <= 1.30x legonn enc-dec: "
          f"{seconds['LegoNN WEmb'] / encdec:.2f}x ({'met' if seconds['LegoNN WEmb'] <= 1.3 * encdec else 'not met'})")
    loader, source = time_loader(args.warmup + args.steps)
    if loader is None:
        print(f"loader: not timed ({source})")
    else:
        print(f"loader (ESPnet iterator + legonn preprocessor, {source}): {loader * 1000:.1f} ms/batch, "
              f"{100 * loader / (encdec / args.steps):.1f}% of a legonn enc-dec step")


if __name__ == "__main__":
    main()
