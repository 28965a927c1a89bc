"""Representation and generative models: autoencoders (seed 004 §3.5) and the generative families of seed 000
§6.5. Autoencoders: a linear autoencoder learns the principal subspace; the KL sparsity penalty vanishes exactly at
the target activation ρ and a sparse autoencoder's units settle there; without a bottleneck an autoencoder learns
the identity; a denoising autoencoder removes noise. The VAE: its ELBO lies below the importance-sampled
log-likelihood, which rises with the number of samples, and its 2-D latent space decodes to a map of digits. Beside
them, the experiments of diffusion models, normalizing flows and GANs."""
