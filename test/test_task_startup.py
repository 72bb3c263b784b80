"""Starting a LegoNN task process (a legonn command: legonn.bin first): ESPnet's eager imports of
what legonn never or rarely uses (the text front-ends g2p_en and tacotron_cleaner, and through both
inflect; scipy.signal for speech augmentation; the TTS aligner behind the trainer's attention
plots, and through it scipy.stats) are deferred, and they still work for code that does use them;
ESPnet's typeguard instrumentation is skipped unless asked for."""
import os
import subprocess
import sys


def run_python(code: str, **environment) -> list:
    """The lines `code` printed (ESPnet prints a notice of its own when it has no flash_attn)."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={**os.environ, **environment})
    assert result.returncode == 0, result.stderr[-3000:]
    return [line for line in result.stdout.splitlines() if "Flash Attention" not in line]


def test_importing_a_task_does_not_run_what_legonn_does_not_use():
    loaded = run_python("import sys, legonn.bin, legonn.tasks.mt, legonn.tasks.asr\n"
                        "print(sorted(m for m in ('inflect', 'g2p_en.g2p', 'tacotron_cleaner.numbers', "
                        "'scipy.signal.windows', 'scipy.stats', 'espnet2.gan_tts.jets') "
                        "if m in sys.modules))")
    assert loaded == ["[]"]


def test_the_deferred_modules_work_when_something_uses_them():
    out = run_python("import legonn.bin, legonn.tasks.mt\n"
                     "from espnet2.text.cleaner import TextCleaner\n"
                     "print(TextCleaner(['tacotron'])('Mr. Smith has 2 dogs'))\n"
                     "import g2p_en\n"
                     "print(g2p_en.G2p.__name__)")
    assert out == ["MISTER SMITH HAS TWO DOGS", "G2p"]


def test_the_deferred_scipy_and_attention_plots_work_when_used():
    out = run_python("import legonn.bin, legonn.tasks.mt, torch\n"
                     "import numpy\n"
                     "from espnet2.train.preprocessor import detect_non_silence\n"
                     "print(detect_non_silence(numpy.ones((1, 8)), frame_length=4, frame_shift=4).all())\n"
                     "from espnet2.train.trainer import calculate_all_attentions\n"
                     "from espnet2.train.abs_espnet_model import AbsESPnetModel\n"
                     "class Empty(AbsESPnetModel):\n"
                     "    def forward(self, **batch): return torch.zeros(()), {}, torch.ones(())\n"
                     "    def collect_feats(self, **batch): return {}\n"
                     "print(calculate_all_attentions(Empty(), {'x': torch.zeros(1, 2)}))")
    assert out == ["True", "{}"]


def test_legonn_commands_skip_espnets_typeguard_instrumentation_unless_asked():
    """A wrong argument type meets ESPnet's own check (an unknown symbol) rather than typeguard's,
    in any process that runs a legonn command (legonn.bin); LEGONN_TYPECHECK=1 restores typeguard."""
    code = ("import legonn.bin\n"
            "from espnet2.text.token_id_converter import TokenIDConverter\n"
            "try:\n"
            "    TokenIDConverter(token_list=['a', '<unk>'], unk_symbol=3)\n"
            "except Exception as error:\n"
            "    print(type(error).__name__)")
    assert run_python(code, LEGONN_TYPECHECK="0") == ["RuntimeError"]
    assert run_python(code, LEGONN_TYPECHECK="1") == ["TypeCheckError"]
