"""keras.preprocessing: the same functions as keras.utils, under Keras's older names."""
import kerasish as keras
from kerasish import preprocessing, utils


def test_preprocessing_names_are_the_utils_functions():
    for name in ("image_dataset_from_directory", "text_dataset_from_directory",
                 "timeseries_dataset_from_array"):
        assert getattr(preprocessing, name) is getattr(utils, name)
    for name in ("array_to_img", "img_to_array", "load_img", "save_img"):
        assert getattr(preprocessing.image, name) is getattr(utils, name)
    assert callable(preprocessing.image.smart_resize)
    assert preprocessing.sequence.pad_sequences is utils.pad_sequences
    assert keras.preprocessing is preprocessing


def test_utils_reexports_the_saving_registry():
    from kerasish import saving

    for name in ("register_keras_serializable", "get_registered_object", "get_registered_name",
                 "custom_object_scope", "CustomObjectScope", "get_custom_objects",
                 "serialize_keras_object", "deserialize_keras_object"):
        assert getattr(utils, name) is getattr(saving, name)
