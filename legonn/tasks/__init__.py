"""ESPnet glue: AbsTask subclasses that build LegoNN models from configs."""
