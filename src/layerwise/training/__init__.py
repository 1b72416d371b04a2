"""The training loop, its fast batcher, callbacks and optimizers."""
