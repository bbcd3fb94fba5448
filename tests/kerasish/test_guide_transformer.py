"""A program in the style of Keras's "Text classification with Transformer" example: token and
position embeddings, a Transformer block (MultiHeadAttention, LayerNormalization, a
feed-forward network, Dropout) as subclassed layers, pooled and classified, trained with fit."""
import numpy as np

import kerasish as keras
from kerasish import layers, ops

VOCAB, MAXLEN, EMBED, HEADS, FF = 20, 8, 16, 2, 16


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"),
                                     layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def make_data(n, seed):
    """Sequences of tokens 1..VOCAB-1; the label says whether token 3 occurs before token 7
    (order matters, so bag-of-words pooling alone does not solve it)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, (n, MAXLEN))
    y = np.zeros(n, "int32")
    for i, row in enumerate(x):
        first3 = np.flatnonzero(row == 3)
        first7 = np.flatnonzero(row == 7)
        y[i] = len(first3) > 0 and (len(first7) == 0 or first3[0] < first7[0])
    return x.astype("float32"), y


def build_model():
    inputs = layers.Input(shape=(MAXLEN,))
    x = TokenAndPositionEmbedding(MAXLEN, VOCAB, EMBED)(inputs)
    x = TransformerBlock(EMBED, HEADS, FF)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def test_transformer_text_classifier_trains():
    keras.utils.set_random_seed(0)
    x_train, y_train = make_data(128, seed=0)
    x_val, y_val = make_data(32, seed=1)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=6,
                        validation_data=(x_val, y_val), verbose=0)
    losses = history.history["loss"]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert losses[-1] < losses[0] * 0.9, losses
    probs = model.predict(x_val, verbose=0)
    assert probs.shape == (32, 2)
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    # The attention block's weights are Keras's: 4 projections + 2 dense + 2 layer norms.
    block = model.layers[2]
    assert [w.shape for w in block.att.weights][:2] == [(EMBED, HEADS, EMBED), (HEADS, EMBED)]
    assert len(block.trainable_weights) == 8 + 4 + 4
