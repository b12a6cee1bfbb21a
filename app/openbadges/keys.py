"""RSA keys for RS256 signing: generate, serialise and load (PEM)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_SIZE = 2048
PUBLIC_EXPONENT = 65537


def generate_private_key(key_size: int = KEY_SIZE) -> rsa.RSAPrivateKey:
    """A new RSA private key (2048 bits by default, as RS256 verifiers expect)."""
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=key_size)


def private_key_to_pem(key: rsa.RSAPrivateKey) -> bytes:
    """PKCS#8 PEM of a private key, unencrypted (protect the file, not the bytes)."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def public_key_to_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """SubjectPublicKeyInfo PEM of the public half, as OB 2.0 ``publicKeyPem`` wants it."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """Load an RSA private key from PEM; refuse any other key type."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(pem: str | bytes) -> rsa.RSAPublicKey:
    """Load an RSA public key from PEM; refuse any other key type."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key
