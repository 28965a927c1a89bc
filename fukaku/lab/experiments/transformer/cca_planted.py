"""Linear CCA in closed form recovers the canonical correlations planted in paired data (seed 000 §6.5, CLIP and
CCA)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku.models.transformer import canonical_correlations

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

PLANTED = (0.9, 0.7, 0.4)   # the canonical correlations of the latent pairs (u_j, v_j)
X_DIM, Y_DIM = 6, 5          # x and y carry the latent pairs plus independent noise dimensions, then rotated
QUICK = {"samples": (500, 2000, 8000), "seeds": 3}
FULL = {"samples": (500, 2000, 8000, 32000, 128000), "seeds": 10}
ACCURATE = 4.0   # every |ρ̂ − ρ| is at most this many of its standard errors (1 − ρ²)/√n at the largest n
RECOVERED = 0.98  # |corr(canonical variate, planted latent)| at the largest n, for each planted pair


def planted_pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` pairs (x, y): latent u_j ~ N(0, 1), v_j = ρ_j u_j + √(1 − ρ_j²) e_j, padded with independent noise
    dimensions and mixed by random invertible matrices. Returns x (n, 6), y (n, 5) and the latents u (n, 3)."""
    rng = np.random.default_rng(seed)
    k, rho = len(PLANTED), np.array(PLANTED)
    u = rng.standard_normal((n, k))
    v = rho * u + np.sqrt(1 - rho ** 2) * rng.standard_normal((n, k))
    x = np.concatenate([u, rng.standard_normal((n, X_DIM - k))], 1) @ rng.standard_normal((X_DIM, X_DIM))
    y = np.concatenate([v, rng.standard_normal((n, Y_DIM - k))], 1) @ rng.standard_normal((Y_DIM, Y_DIM))
    return x, y, u


def qr_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Björck & Golub (1973): the canonical correlations are the singular values of Q_xᵀQ_y, Q from the QR
    factorisations of the centred data — an independent algorithm (no covariance, no whitening)."""
    qx = np.linalg.qr(x - x.mean(0))[0]
    qy = np.linalg.qr(y - y.mean(0))[0]
    return np.linalg.svd(qx.T @ qy, compute_uv=False)


class CCAPlanted(Experiment, id="cca-planted-correlations", source="seed 000 §6.5 (CLIP and CCA)"):
    """Linear CCA recovers planted canonical correlations.

    CCA finds the directions w_x, w_y maximising corr(w_xᵀx, w_yᵀy), then the next ones uncorrelated with them
    (seed 000 §6.5). In closed form (whitening by C_xx^(−1/2) and C_yy^(−1/2), then an SVD of the whitened
    cross-covariance) it recovers correlations planted in the data: latent pairs with correlations 0.9, 0.7, 0.4,
    padded with noise and mixed by random matrices into x ∈ R⁶ and y ∈ R⁵. At the largest sample size every
    estimated correlation is within 4 standard errors of the planted one, the canonical variates match the
    planted latents (|corr| ≥ 0.98), the error shrinks as the sample grows, and the closed form agrees with
    Björck–Golub's QR algorithm.
    """

    def measure(self, ctx: Context) -> Measurement:
        config = QUICK if ctx.quick else FULL
        rho, k = np.array(PLANTED), len(PLANTED)
        errors, estimates, agreement, recovered = {}, {}, 0.0, []
        for n in config["samples"]:
            runs = []
            for s in range(config["seeds"]):
                x, y, u = planted_pairs(n, ctx.seed + 1000 * s + n)
                result = canonical_correlations(fk.tensor(x), fk.tensor(y))
                found = result.correlations.numpy()
                runs.append(found)
                agreement = max(agreement, float(np.abs(found - qr_correlations(x, y)).max()))
                if n == config["samples"][-1]:
                    variates = (x - x.mean(0)) @ result.x_weights.numpy()[:, :k]
                    recovered.append([abs(np.corrcoef(variates[:, j], u[:, j])[0, 1]) for j in range(k)])
            runs = np.array(runs)
            errors[n] = float(np.abs(runs[:, :k] - rho).max())
            standard_errors = float((np.abs(runs[:, :k] - rho) / ((1 - rho ** 2) / np.sqrt(n))).max())
            estimates[n] = runs.mean(0).round(4).tolist()
        n = config["samples"][-1]
        return Measurement(values={
            "planted correlations": list(PLANTED), "x, y dimensions": [X_DIM, Y_DIM],
            "samples": list(config["samples"]), "seeds per size": config["seeds"],
            "mean estimated correlations by n": {str(n): v for n, v in estimates.items()},
            "largest |ρ̂ − ρ| by n": {str(n): v for n, v in errors.items()},
            "largest |ρ̂ − ρ| at the largest n, in standard errors": standard_errors,
            "largest spurious correlation at the largest n": float(max(estimates[n][k:])),
            "smallest |corr(canonical variate, planted latent)|": float(np.min(recovered)),
            "largest |closed form − QR algorithm|": agreement})

    def checks(self, m: dict) -> list[Check]:
        errors = list(m["largest |ρ̂ − ρ| by n"].values())
        return [Check("largest |ρ̂ − ρ| at the largest n (standard errors)",
                      m["largest |ρ̂ − ρ| at the largest n, in standard errors"], "≤", ACCURATE),
                Check("|corr(canonical variate, planted latent)|, smallest",
                      m["smallest |corr(canonical variate, planted latent)|"], "≥", RECOVERED),
                Check("the error shrinks: largest n's error / smallest n's", errors[-1] / errors[0], "<", 0.5),
                Check("closed form vs Björck–Golub QR algorithm", m["largest |closed form − QR algorithm|"], "≤",
                      1e-8)]

    summary_template = """CCA finds {found} for planted {planted}. At n = {n:,} ({m[seeds per size]} seeds) the
        largest error is {err:.4f} ({m[largest |ρ̂ − ρ| at the largest n, in standard errors]:.1f} standard errors;
        {err0:.3f} at n = {n0:,}); the canonical variates match the planted latents with |corr| ≥
        {m[smallest |corr(canonical variate, planted latent)|]:.4f}; the pairs with no planted correlation get
        at most {m[largest spurious correlation at the largest n]:.3f}. The closed form agrees with the QR
        algorithm within {m[largest |closed form − QR algorithm|]:.0e}."""

    def summary_values(self, m: dict) -> dict:
        samples = m["samples"]
        found = m["mean estimated correlations by n"][str(samples[-1])][:len(PLANTED)]
        return {"found": ", ".join(f"{v:.3f}" for v in found), "planted": ", ".join(map(str, PLANTED)),
                "n": samples[-1], "n0": samples[0], "err": m["largest |ρ̂ − ρ| by n"][str(samples[-1])],
                "err0": m["largest |ρ̂ − ρ| by n"][str(samples[0])]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        m = measurement.values

        def draw(fig):
            left, right = fig.subplots(1, 2)
            n = str(m["samples"][-1])
            found = m["mean estimated correlations by n"][n]
            planted = list(PLANTED) + [0.0] * (len(found) - len(PLANTED))
            index = np.arange(len(found))
            left.bar(index - 0.2, planted, 0.4, label="planted", color="#999")
            left.bar(index + 0.2, found, 0.4, label=f"CCA, n = {int(n):,}", color="#46c")
            left.set(xlabel="canonical pair", ylabel="correlation", title="canonical correlations")
            left.legend(fontsize=8)
            sizes = [int(s) for s in m["largest |ρ̂ − ρ| by n"]]
            right.loglog(sizes, list(m["largest |ρ̂ − ρ| by n"].values()), "o-", label="largest |ρ̂ − ρ|")
            right.loglog(sizes, [1 / np.sqrt(s) for s in sizes], "--", color="#999", label="1/√n")
            right.set(xlabel="samples n", ylabel="error", title="error vs sample size")
            right.tick_params(axis="both", which="minor", labelbottom=False, labelleft=False)
            right.legend(fontsize=8)

        return save_figure(ctx, self.id, draw, figsize=(10, 4))
