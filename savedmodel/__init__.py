"""Python exporters for neuralstyle: VGG16 weights files and the SavedModel the Go driver runs."""
