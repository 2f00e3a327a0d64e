"""World Models: collect frames, V (beta-VAE), M (MDN-LSTM), C evolved with CMA-ES in the real game or the dream."""
