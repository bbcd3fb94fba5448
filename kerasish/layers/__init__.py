"""Every layer class, flat, as ``keras.layers`` has them."""
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .core import Activation, Dense, Dropout, Identity, Lambda, Masking
from .embedding import Embedding
from .input_layer import Input, InputLayer
from .input_spec import InputSpec
from .layer import Layer
from .layer_serialization import deserialize, serialize
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                      average, concatenate, dot, maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization, LayerNormalization
from .convolutional import (Conv1D, Conv2D, Conv2DTranspose, Convolution1D, Convolution2D,
                            Convolution2DTranspose, DepthwiseConv2D, SeparableConv2D,
                            SeparableConvolution2D)
from .convolutional import (Conv1DTranspose, Conv3D, Conv3DTranspose, Convolution1DTranspose,
                            Convolution3D, Convolution3DTranspose, DepthwiseConv1D,
                            SeparableConv1D, SeparableConvolution1D)
from .pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D,
                      GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
                      GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPooling1D,
                      GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D)
from .pooling import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
                      AdaptiveAveragePooling3D, AdaptiveMaxPooling1D, AdaptiveMaxPooling2D,
                      AdaptiveMaxPooling3D, AveragePooling3D, AvgPool3D, GlobalAveragePooling3D,
                      GlobalAvgPool3D, GlobalMaxPool3D, GlobalMaxPooling3D, MaxPool3D,
                      MaxPooling3D)
from .reshaping import Cropping2D, UpSampling2D, ZeroPadding2D
from .reshaping import (Cropping1D, Cropping3D, UpSampling1D, UpSampling3D, ZeroPadding1D,
                        ZeroPadding3D)
from .shape_layers import Flatten, Permute, RepeatVector, Reshape
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from .rnn import StackedRNNCells
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from .wrappers import Bidirectional, TimeDistributed
from .attention import (AdditiveAttention, Attention, GroupQueryAttention,
                        MultiHeadAttention)
from .einsum_dense import EinsumDense
from .embedding import ReversibleEmbedding
from .normalization_extra import GroupNormalization, RMSNormalization, UnitNormalization
from .regularization import (ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise,
                             SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from .wrappers import SpectralNormalization, Wrapper
from .preprocessing.normalization import Normalization
from .preprocessing.rescaling import Rescaling
from .preprocessing.category_encoding import CategoryEncoding
from .preprocessing.discretization import Discretization
from .preprocessing.hashed_crossing import HashedCrossing
from .preprocessing.hashing import Hashing
from .preprocessing.integer_lookup import IntegerLookup
from .preprocessing.string_lookup import StringLookup
from .preprocessing.text_vectorization import TextVectorization
from .preprocessing.image_resizing import CenterCrop, Resizing
from .preprocessing.image_augmentation import (RandomBrightness, RandomContrast, RandomFlip,
                                               RandomRotation, RandomTranslation, RandomZoom)
