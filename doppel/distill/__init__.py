"""Distillation: a teacher teaches each agent's small student (a LoRA adapter on a shared base).

- `student`: the student's trainable form, a dense Hugging Face checkpoint of the packaged GGUF.
"""
