"""The string hashes behind Keras's Hashing, HashedCrossing and lookup OOV buckets, bit for bit
as TensorFlow computes them:

- ``to_hash_bucket_fast``: FarmHash Fingerprint64 of the UTF-8 bytes, modulo the bucket count
  (the ``pyfarmhash`` binding, the ``preprocessing`` extra);
- ``to_hash_bucket_strong``: SipHash-2-4 keyed by two 64-bit words (the salt), modulo the count;
- ``cross_hash``: ``tf.sparse.cross_hashed``'s FingerprintCat64 chain over the features'
  Fingerprint64s, seeded with TF's default hash key.

Non-string values are hashed through their text, as ``tf.strings.as_string`` writes it.
"""
from __future__ import annotations

import numpy as np

_MASK64 = (1 << 64) - 1
# tf.sparse.cross_hashed's default `hash_key` (sparse_cross_op.cc's kDefaultHashKey).
CROSS_HASH_KEY = 0xDECAFCAFFE
_CAT_MUL = 0xC6A4A7935BD1E995


def _farmhash():
    try:
        import farmhash
    except ImportError as e:
        raise ImportError("The hashing preprocessing layers need FarmHash's Fingerprint64 from "
                          "the `pyfarmhash` package: `pip install kerasish[preprocessing]` "
                          "(or `pip install pyfarmhash`).") from e
    return farmhash


def to_bytes(value, encoding="utf-8"):
    """The bytes TensorFlow hashes for one value (``tf.strings.as_string`` for numbers)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode(encoding)
    if isinstance(value, (bool, np.bool_)):
        return b"true" if value else b"false"
    if isinstance(value, (int, np.integer)):
        return str(int(value)).encode()
    if isinstance(value, (float, np.floating)):
        return f"{float(value):f}".encode()
    return str(value).encode(encoding)


def fingerprint64(data: bytes) -> int:
    """FarmHash Fingerprint64 of ``data`` (TensorFlow's ``Fingerprint64``)."""
    return _farmhash().fingerprint64(data)


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & _MASK64


def siphash24(key, data: bytes) -> int:
    """SipHash-2-4 of ``data`` with the 128-bit key ``(k0, k1)`` (two unsigned 64-bit words).

    >>> hex(siphash24((0x0706050403020100, 0x0F0E0D0C0B0A0908), b""))
    '0x726fdb47dd0e0e31'
    """
    k0, k1 = key[0] & _MASK64, key[1] & _MASK64
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D,
         k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rounds(n):
        v0, v1, v2, v3 = v
        for _ in range(n):
            v0 = (v0 + v1) & _MASK64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _MASK64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _MASK64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _MASK64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)
        v[:] = [v0, v1, v2, v3]

    tail = len(data) % 8
    for i in range(0, len(data) - tail, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    # The last word: the remaining bytes, and the length's low byte at the top.
    m = int.from_bytes(data[len(data) - tail:], "little") | ((len(data) & 0xFF) << 56)
    v[3] ^= m
    rounds(2)
    v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """TensorFlow's ``FingerprintCat64``: two fingerprints combined into one."""
    def shift_mix(x):
        return x ^ (x >> 47)

    result = fp1 ^ _CAT_MUL
    result ^= (shift_mix((fp2 * _CAT_MUL) & _MASK64) * _CAT_MUL) & _MASK64
    result = (result * _CAT_MUL) & _MASK64
    result = (shift_mix(result) * _CAT_MUL) & _MASK64
    return shift_mix(result)


def hash_buckets(values, num_buckets, salt=None, encoding="utf-8"):
    """``to_hash_bucket_fast`` (``salt=None``) or ``to_hash_bucket_strong`` (``salt`` =
    ``[k0, k1]``) of every item of ``values`` (any shape), as an int64 array. Each distinct
    value is hashed once."""
    values = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    flat = values.reshape(-1)
    if flat.size == 0:
        return np.zeros(values.shape, np.int64)
    uniques, inverse = np.unique(flat.astype(object) if flat.dtype.kind in "SU" else flat,
                                 return_inverse=True)
    if salt is None:
        fingerprint = _farmhash().fingerprint64
        hashed = [fingerprint(to_bytes(u, encoding)) % num_buckets for u in uniques.tolist()]
    else:
        key = (int(salt[0]), int(salt[1]))
        hashed = [siphash24(key, to_bytes(u, encoding)) % num_buckets for u in uniques.tolist()]
    return np.asarray(hashed, np.int64)[inverse.reshape(-1)].reshape(values.shape)


def cross_hash(columns, num_buckets):
    """``tf.sparse.cross_hashed`` of equally long 1-D columns (one feature per row each):
    the FingerprintCat64 chain from ``CROSS_HASH_KEY`` over the features' hashes, modulo
    ``num_buckets``. A string feature's hash is its Fingerprint64; an integer feature is its
    own hash (its 64 bits, as TF's int64 crosser)."""
    fingerprint = _farmhash().fingerprint64
    cache = {}

    def feature_hash(value):
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return int(value) & _MASK64
        data = to_bytes(value)
        if data not in cache:
            cache[data] = fingerprint(data)
        return cache[data]

    out = np.empty(len(columns[0]), np.int64)
    for row, features in enumerate(zip(*[c.tolist() for c in columns])):
        hashed = CROSS_HASH_KEY
        for value in features:
            hashed = fingerprint_cat64(hashed, feature_hash(value))
        out[row] = hashed % num_buckets if num_buckets > 0 else hashed % (2 ** 63 - 1)
    return out
