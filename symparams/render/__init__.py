"""Renderers: one module per output format. They choose how to show ready Step
objects and LayerInfo rows; they do no arithmetic of their own."""
