"""``keras.utils.audio_dataset_from_directory``: WAV files in class folders as a PyDataset
(read with the standard library's ``wave`` module)."""
from __future__ import annotations

import wave

import numpy as np

from . import dataset_utils

ALLOWED_FORMATS = (".wav",)
_PCM = {1: ("u1", 128.0, 128.0), 2: ("<i2", 0.0, 32768.0), 4: ("<i4", 0.0, 2147483648.0)}


def read_wav(path, sampling_rate=None, output_sequence_length=None):
    """A PCM WAV file as float32 ``(samples, channels)`` in [-1, 1] (TF's ``decode_wav``),
    cut or zero-padded to ``output_sequence_length`` samples when given."""
    with wave.open(str(path), "rb") as f:
        width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
        frames = f.readframes(f.getnframes())
    if width not in _PCM:
        raise ValueError(f"Only 8, 16 and 32-bit PCM WAV files can be read. Received: "
                         f"{path} with {8 * width}-bit samples")
    if sampling_rate is not None and sampling_rate != rate:
        raise NotImplementedError(
            f"Resampling audio is not implemented in kerasish (Keras needs tensorflow-io for "
            f"it): {path} is sampled at {rate} Hz. Resample the files beforehand, or pass "
            f"sampling_rate=None. Received: sampling_rate={sampling_rate}")
    dtype, offset, scale = _PCM[width]
    audio = ((np.frombuffer(frames, dtype=dtype).astype("float32") - offset) / scale)
    audio = audio.reshape(-1, channels)
    if output_sequence_length is not None:
        out = np.zeros((output_sequence_length, channels), "float32")
        n = min(output_sequence_length, len(audio))
        out[:n] = audio[:n]
        audio = out
    return audio


def _pad_batch(clips):
    """Clips zero-padded at the end to the longest one (TF's ``padded_batch``)."""
    longest = max(len(c) for c in clips)
    out = np.zeros((len(clips), longest, clips[0].shape[1]), "float32")
    for i, clip in enumerate(clips):
        out[i, :len(clip)] = clip
    return out


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, batch_size=32, sampling_rate=None,
                                 output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None,
                                 follow_links=False, verbose=True):
    """A ``PyDataset`` of ``(audio, labels)`` batches from ``.wav`` files.

    Audio is float32 ``(batch, samples, channels)`` in [-1, 1], each batch zero-padded to its
    longest clip (or every clip cut/padded to ``output_sequence_length``); with ``ragged=True``
    a batch is a list of ``(samples, channels)`` arrays. Labels as in
    :func:`image_dataset_from_directory`.

    Args:
        directory, labels, label_mode, class_names, batch_size, shuffle, seed,
            validation_split, subset, follow_links, verbose: as in
            :func:`image_dataset_from_directory`.
        sampling_rate: The files' sampling rate, or None; kerasish does not resample, so a file
            at another rate raises NotImplementedError.
        output_sequence_length: Cut or zero-pad every clip to this many samples.
        ragged: Keep clips at their own lengths (a list per batch).

    >>> ds = audio_dataset_from_directory("speech_commands", output_sequence_length=16000)
    """
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError("`sampling_rate` should have an integer value. "
                             f"Received: sampling_rate={sampling_rate}")
        if sampling_rate <= 0:
            raise ValueError("`sampling_rate` should be higher than 0. "
                             f"Received: sampling_rate={sampling_rate}")

    def load(path):
        return read_wav(path, sampling_rate, output_sequence_length)

    collate = list if ragged else (np.stack if output_sequence_length else _pad_batch)

    def make(paths, labels, label_mode, class_names):
        return dataset_utils.FileDataset(paths, labels, label_mode, class_names, batch_size,
                                         load, collate)

    return dataset_utils.build_from_directory(
        directory, labels, label_mode, class_names, ALLOWED_FORMATS, batch_size, shuffle, seed,
        validation_split, subset, follow_links, verbose, make, what="audio files")
