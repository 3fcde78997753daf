"""Verified approvals: the evidence model, the providers (GitHub reviews, signed commits), CODEOWNERS."""
