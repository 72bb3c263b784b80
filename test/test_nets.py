"""Specifications of the paper's building blocks (section III)."""
import pytest
import torch

from legonn.build import build_decoder_module
from legonn.nets.decoder import TransformerDecoder
from legonn.nets.encoder import Conv2dSubsampling, LegoNNEncoder, TokenEmbedding
from legonn.nets.ingestor import BeamConvIngestor, SymbolMarginals, WEmbIngestor
from legonn.nets.layers import Dropout, MultiHeadAttention
from legonn.nets.olc import OutputLengthController

DIM = 32


def small_olc(ratio, max_len=1000):
    return OutputLengthController(DIM, ratio=ratio, max_len=max_len, heads=2, ffn_dim=64, layers=1)


@pytest.mark.parametrize("ratio,lengths,expected", [
    (2.0, [5, 3], [10, 6]),      # MT-style upsampling
    (1 / 1.5, [9, 10], [6, 7]),  # ASR-style fractional downsampling
    (0.1, [30, 31], [3, 4]),     # exact ceil, no float drift
    (1.2, [7], [9]),
])
def test_olc_output_length_is_ceil_of_ratio_times_input(ratio, lengths, expected):
    olc = small_olc(ratio).eval()
    lengths = torch.tensor(lengths)
    out, out_lengths = olc(torch.randn(len(lengths), int(lengths.max()), DIM), lengths)
    assert out_lengths.tolist() == expected
    assert out.shape == (len(lengths), max(expected), DIM)


@pytest.mark.parametrize("ratio, length, expected", [
    (0.5, 6, [0, 2, 4]),
    (2.0, 3, [0, 0, 1, 1, 2, 2]),
    (1 / 1.5, 6, [0, 1, 3, 4]),
])
def test_uniform_copy_reads_the_input_position_k_over_ratio(ratio, length, expected):
    olc = OutputLengthController(DIM, ratio=ratio, max_len=100, heads=2, ffn_dim=64, layers=1, uniform_copy=True)
    assert olc.copy_positions(torch.tensor([length]), len(expected)).tolist() == [expected]
    # A shorter utterance in the batch never reads past its own last state.
    assert olc.copy_positions(torch.tensor([2]), len(expected)).max() == 1


def test_uniform_copy_olc_is_batch_invariant():
    olc = OutputLengthController(DIM, ratio=2.0, max_len=100, heads=2, ffn_dim=64, layers=1,
                                 uniform_copy=True).eval()
    states, lengths = torch.randn(2, 7, DIM), torch.tensor([7, 4])
    batched, _ = olc(states, lengths)
    alone, _ = olc(states[1:, :4], lengths[1:])
    torch.testing.assert_close(batched[1, :8], alone[0], atol=1e-5, rtol=1e-5)


def test_olc_caps_output_length_at_max_len():
    olc = small_olc(3.0, max_len=8).eval()
    _, out_lengths = olc(torch.randn(2, 5, DIM), torch.tensor([5, 2]))
    assert out_lengths.tolist() == [8, 6]


def assert_batch_invariant(run, inputs, lengths, atol=1e-5):
    """Each utterance gives the same output alone as inside a padded batch."""
    batch_out, batch_lengths = run(inputs, lengths)
    for b, length in enumerate(lengths.tolist()):
        alone, alone_length = run(inputs[b:b + 1, :length], lengths[b:b + 1])
        n = int(alone_length[0])
        assert int(batch_lengths[b]) == n
        torch.testing.assert_close(batch_out[b, :n], alone[0, :n], atol=atol, rtol=1e-4)


def speech_encoder(olc=None):
    return LegoNNEncoder(Conv2dSubsampling(16, DIM, (4, 8)), DIM, heads=2, ffn_dim=64, layers=2,
                         olc=olc, interface_size=11).eval()


def test_speech_encoder_with_olc_is_batch_invariant():
    encoder = speech_encoder(olc={"ratio": 1 / 1.5, "max_len": 50, "layers": 1})
    lengths = torch.tensor([37, 21, 9])

    def run(x, n):
        out = encoder(x, n)
        return out.log_probs, out.lengths

    assert_batch_invariant(run, torch.randn(3, 37, 16), lengths)


def test_text_encoder_log_probs_are_normalized_over_the_interface():
    encoder = LegoNNEncoder(TokenEmbedding(20, DIM), DIM, heads=2, ffn_dim=64, layers=1,
                            olc={"ratio": 2.0, "max_len": 40}, interface_size=13).eval()
    out = encoder(torch.randint(0, 20, (2, 6)), torch.tensor([6, 4]))
    assert out.log_probs.shape == (2, 12, 13)
    torch.testing.assert_close(out.log_probs.exp().sum(-1), torch.ones(2, 12))
    assert out.lengths.tolist() == [12, 8]


@pytest.mark.parametrize("make", [
    lambda: WEmbIngestor(11, DIM, rf=1, heads=2, ffn_dim=64, layers=1),
    lambda: WEmbIngestor(11, DIM, rf=5, heads=2, ffn_dim=64, layers=1),
    lambda: BeamConvIngestor(11, DIM, beam=4, embed_dim=8, rf=3, heads=2, ffn_dim=64, layers=1),
])
def test_ingestors_are_batch_invariant(make):
    ingestor = make().eval()
    log_probs = torch.randn(3, 12, 11).log_softmax(-1)
    assert_batch_invariant(ingestor, log_probs, torch.tensor([12, 7, 3]))


def gradient_reaching_encoder(ingestor):
    encoder = speech_encoder(olc={"ratio": 0.5, "max_len": 50, "layers": 1}).train()
    out = encoder(torch.randn(2, 40, 16), torch.tensor([40, 30]))
    states, _ = ingestor(out.log_probs, out.lengths)
    states.sum().backward()
    return sum(p.grad.abs().sum() for p in encoder.parameters() if p.grad is not None)


@pytest.mark.parametrize("make", [
    lambda: WEmbIngestor(11, DIM, rf=1, heads=2, ffn_dim=64, layers=1),
    lambda: BeamConvIngestor(11, DIM, beam=4, embed_dim=8, rf=1, heads=2, ffn_dim=64, layers=1),
], ids=["wemb", "beamconv"])
def test_an_ingestor_of_receptive_field_one_computes_its_convolution_as_a_matrix_product(make):
    ingestor = make().eval()
    log_probs = torch.randn(2, 6, 11).log_softmax(-1)
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    if isinstance(ingestor, WEmbIngestor):
        probs = log_probs.exp() * mask[..., None]
        convolved = ingestor.conv(probs.transpose(1, 2)).transpose(1, 2) * ingestor.scale
    else:
        ranks = ingestor.embedding(log_probs.topk(4, dim=-1).indices) * mask[..., None, None]
        convolved = ingestor.conv(ranks.permute(0, 3, 1, 2)).squeeze(-1).transpose(1, 2)
    torch.testing.assert_close(ingestor.embed(log_probs, mask), convolved)


def test_wemb_passes_gradients_to_the_previous_module():
    assert gradient_reaching_encoder(WEmbIngestor(11, DIM, heads=2, ffn_dim=64, layers=1)) > 0


def test_wemb_with_a_shared_embedding_reads_the_decoders_table_and_trains_it_from_both_sides():
    decoder_module = build_decoder_module({"dim": DIM, "heads": 2, "ffn_dim": 64, "layers": 1}, 11, "wemb",
                                          {"heads": 2, "ffn_dim": 64, "layers": 1, "share_embedding": True}, 11)
    table = decoder_module.decoder.embed.weight
    assert decoder_module.ingestor.shared_embedding.weight is table
    assert decoder_module.ingestor.conv is None
    states, lengths = decoder_module.ingestor(torch.randn(2, 5, 11).log_softmax(-1), torch.tensor([5, 3]))
    states.sum().backward()
    assert table.grad is not None and table.grad.abs().sum() > 0


def test_a_shared_embedding_needs_the_interface_to_be_the_output_vocabulary():
    with pytest.raises(ValueError, match="share_embedding needs"):
        build_decoder_module({"dim": DIM, "heads": 2, "ffn_dim": 64, "layers": 1}, 12, "wemb",
                             {"heads": 2, "ffn_dim": 64, "layers": 1, "share_embedding": True}, 11)


def test_beamconv_isolates_the_previous_module_from_gradients():
    ingestor = BeamConvIngestor(11, DIM, beam=3, embed_dim=8, heads=2, ffn_dim=64, layers=1)
    assert gradient_reaching_encoder(ingestor) == 0


def test_beamconv_sees_only_the_ranking_of_the_marginals():
    ingestor = BeamConvIngestor(11, DIM, beam=3, embed_dim=8, heads=2, ffn_dim=64, layers=1).eval()
    log_probs = torch.randn(1, 6, 11).log_softmax(-1)
    sharper = (log_probs * 3).log_softmax(-1)  # same order, different values
    lengths = torch.tensor([6])
    torch.testing.assert_close(ingestor(log_probs, lengths)[0], ingestor(sharper, lengths)[0])


def collapse(log_probs, length, blank=0):
    ids = log_probs[:length].argmax(-1).tolist()
    return [i for i in ids if i != blank]


def test_stretched_text_marginals_look_like_peaky_ctc_output_of_the_same_symbols():
    tokens, lengths = torch.tensor([[5, 3, 3, 7], [4, 6, 0, 0]]), torch.tensor([4, 2])
    marginals = SymbolMarginals(9, stretch=(1.5, 2.5))
    for mode in (marginals.train(), marginals.eval()):
        log_probs, new_lengths = mode(tokens, lengths)
        assert torch.all(new_lengths >= lengths) and torch.all(new_lengths <= (lengths * 2.5).round())
        assert collapse(log_probs[0], new_lengths[0]) == [5, 3, 3, 7]  # order kept, nothing lost
        assert collapse(log_probs[1], new_lengths[1]) == [4, 6]
    assert new_lengths.tolist() == [8, 4]  # evaluation: the midpoint, 2 x


def test_stretch_below_one_is_refused():
    with pytest.raises(ValueError, match="stretch"):
        SymbolMarginals(9, stretch=(0.5, 2.0))


def test_decoder_is_batch_invariant_over_memory_padding():
    decoder = TransformerDecoder(17, DIM, heads=2, ffn_dim=64, layers=2).eval()
    memory = torch.randn(2, 9, DIM)
    mask = torch.tensor([[True] * 9, [True] * 5 + [False] * 4])
    tokens = torch.randint(0, 17, (2, 6))
    batch = decoder(tokens, memory, mask)
    alone = decoder(tokens[1:], memory[1:, :5], mask[1:, :5])
    torch.testing.assert_close(batch[1], alone[0], atol=1e-5, rtol=1e-4)


def test_incremental_decoding_equals_teacher_forcing():
    decoder = TransformerDecoder(17, DIM, heads=2, ffn_dim=64, layers=2).eval()
    memory = torch.randn(2, 9, DIM)
    mask = torch.tensor([[True] * 9, [True] * 5 + [False] * 4])
    tokens = torch.randint(0, 17, (2, 6))
    full = decoder(tokens, memory, mask).log_softmax(-1)
    state = decoder.init_state(memory, mask)
    for t in range(tokens.size(1)):
        step, state = decoder.step(tokens[:, t], state)
        torch.testing.assert_close(step, full[:, t], atol=1e-5, rtol=1e-4)


def test_reordered_state_follows_the_selected_rows():
    decoder = TransformerDecoder(17, DIM, heads=2, ffn_dim=64, layers=1).eval()
    memory, mask = torch.randn(2, 5, DIM), torch.ones(2, 5, dtype=torch.bool)
    state = decoder.init_state(memory, mask)
    _, state = decoder.step(torch.tensor([3, 4]), state)
    swapped = decoder.reorder_state(state, torch.tensor([1, 0]))
    out, _ = decoder.step(torch.tensor([5, 5]), swapped)
    _, state_b = decoder.step(torch.tensor([4]), decoder.init_state(memory[1:], mask[1:]))
    alone, _ = decoder.step(torch.tensor([5]), state_b)
    torch.testing.assert_close(out[0], alone[0], atol=1e-5, rtol=1e-4)


def test_cpu_dropout_drops_a_tenth_and_keeps_the_expected_value():
    dropout = Dropout(0.1).train()
    x = torch.ones(400, 1000)
    y = dropout(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.9) < 0.002
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 2**16 / (2**16 - 6554)))
    assert abs(y.mean().item() - 1.0) < 0.003
    assert not torch.equal(kept, dropout(x) != 0)  # a fresh mask per call


def test_cpu_dropout_masks_are_reproducible_from_the_seed_and_absent_in_evaluation():
    dropout, x = Dropout(0.3), torch.randn(7, 33)
    torch.manual_seed(5)
    first = dropout.train()(x)
    torch.manual_seed(5)
    torch.testing.assert_close(dropout(x), first)
    assert torch.equal(dropout.eval()(x), x)


def test_attention_under_cpu_bfloat16_autocast_is_sdpas_within_bfloat16_precision():
    attention = MultiHeadAttention(DIM, 4).eval()
    query, memory = torch.randn(3, 5, DIM), torch.randn(3, 7, DIM)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3, [True] * 2 + [False] * 5])[:, None, None, :]
    exact = attention(query, memory, mask)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = attention(query, memory, mask)
    assert mixed.dtype == torch.bfloat16
    torch.testing.assert_close(mixed.float(), exact, atol=0.05, rtol=0.05)


def test_interface_marginals_stay_float32_under_bfloat16_autocast():
    encoder = LegoNNEncoder(TokenEmbedding(20, DIM), DIM, heads=2, ffn_dim=64, layers=1,
                            olc={"ratio": 2.0, "max_len": 40}, interface_size=13)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = encoder(torch.randint(0, 20, (2, 6)), torch.tensor([6, 4]))
    assert out.log_probs.dtype == torch.float32
    torch.testing.assert_close(out.log_probs.exp().sum(-1), torch.ones(2, 12))
