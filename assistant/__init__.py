"""The evidence assistant's core. Importing it turns off every way a library could phone home:
these switches are set before any of those libraries is imported."""

import os

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # ONNX Runtime's wheels carry Microsoft's 1DS telemetry, which looks up its collector's
    # host once a process has run for some seconds; disable_telemetry_events() does not stop
    # it, this does (see tests/test_network_guard.py).
    "ORT_DISABLE_TELEMETRY": "1",
}.items():
    os.environ.setdefault(_name, _value)
