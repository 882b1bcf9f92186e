"""transformers' common model, config and processor tests, run on MODA as `tests/models/llava` runs them.

The mixins come from the installed transformers' source distribution (see `transformers_tests.py`). MODA is
registered in-process in the auto mappings where llava sits (AutoConfig, AutoModel, AutoModelForPreTraining,
AutoModelForImageTextToText, AutoProcessor): the like-for-like run. Each skip says why in one line; llava's
own file skips the gradient-checkpointing tests (and a padding-free flash-attention test that this mixin no
longer has).
"""

from __future__ import annotations

import copy
import unittest

import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForImageTextToText,
    AutoModelForPreTraining,
    AutoProcessor,
    CLIPImageProcessorPil,
)
from transformers.models.auto import modeling_auto as auto_modeling
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
from transformers.models.auto.processing_auto import PROCESSOR_MAPPING
from transformers.testing_utils import torch_device

from modeling_moda.builder import train_tokenizer
from modeling_moda.configuration_moda import ModaConfig
from modeling_moda.modeling_moda import ModaForConditionalGeneration, ModaModel
from modeling_moda.processing_moda import PLAIN_CHAT_TEMPLATE, ModaProcessor

from .transformers_tests import import_common

modeling_common = import_common("test_modeling_common")
configuration_common = import_common("test_configuration_common")
processing_common = import_common("test_processing_common")
GenerationTesterMixin = import_common("generation.test_utils").GenerationTesterMixin
ModelTesterMixin, floats_tensor, ids_tensor = (
    modeling_common.ModelTesterMixin,
    modeling_common.floats_tensor,
    modeling_common.ids_tensor,
)

# where llava sits: the auto classes, and the *_MAPPING_NAMES tables the mixins read to tell a base model
AUTO_CLASSES = {
    AutoModel: (ModaModel, auto_modeling.MODEL_MAPPING_NAMES),
    AutoModelForPreTraining: (
        ModaForConditionalGeneration,
        auto_modeling.MODEL_FOR_PRETRAINING_MAPPING_NAMES,
    ),
    AutoModelForImageTextToText: (
        ModaForConditionalGeneration,
        auto_modeling.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
    ),
}


def setUpModule():
    AutoConfig.register("moda", ModaConfig, exist_ok=True)
    AutoProcessor.register(ModaConfig, ModaProcessor, exist_ok=True)
    for auto_class, (model_class, names) in AUTO_CLASSES.items():
        auto_class.register(ModaConfig, model_class, exist_ok=True)
        names["moda"] = model_class.__name__


def tearDownModule():
    # the rest of the suite runs in this process: leave the auto mappings as transformers made them
    for auto_class, (_, names) in AUTO_CLASSES.items():
        auto_class._model_mapping._extra_content.pop(ModaConfig, None)
        names.pop("moda", None)
    PROCESSOR_MAPPING._extra_content.pop(ModaConfig, None)
    CONFIG_MAPPING._extra_content.pop("moda", None)


GRADIENT_CHECKPOINTING_SKIP = (
    "skipped as in llava's file; here the check watches the first checkpointing layer, in the frozen tower, "
    "which stays in eval mode and never checkpoints (test_modeling.py checks the trainable LM's layers)"
)

ONE_IMAGE_PER_PROMPT = (
    "by design MODA describes one product photo per prompt, and this test puts two or three images in one; "
    "the processor refuses that with a clear error (test_processor.py)"
)


class ModaVisionText2TextModelTester:
    """llava's tester with MODA's seed shape: a tiny CLIP vision tower (pooled, projected) -> MLP -> tiny OPT,
    one `<image>` token first in every row."""

    def __init__(self, parent, batch_size: int = 3, seq_length: int = 7, num_image_tokens: int = 1):
        self.parent = parent
        self.batch_size = batch_size
        self.num_image_tokens = num_image_tokens
        self.seq_length = seq_length + num_image_tokens
        self.encoder_seq_length = self.seq_length
        self.is_training = True
        self.vocab_size = 99
        self.hidden_size = 32
        self.num_hidden_layers = 2
        self.num_attention_heads = 4
        self.pad_token_id = 1
        self.image_token_id = 3  # low, as llava's 0: test_resize_tokens_embeddings clamps ids from above
        self.image_size = 8
        self.vision_config = {
            "model_type": "clip_vision_model",
            "image_size": self.image_size,
            "patch_size": 2,
            "num_channels": 3,
            "hidden_size": 32,
            "projection_dim": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "intermediate_size": 37,
            "dropout": 0.1,
            "attention_dropout": 0.1,
            "initializer_range": 0.02,
        }
        self.text_config = {
            "model_type": "opt",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "word_embed_proj_dim": self.hidden_size,
            "ffn_dim": 37,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "max_position_embeddings": 512,
            "dropout": 0.1,
            "attention_dropout": 0.1,
            "init_std": 0.02,
            "pad_token_id": self.pad_token_id,
            "bos_token_id": 2,
            "eos_token_id": 2,
        }

    def get_config(self) -> ModaConfig:
        return ModaConfig(
            vision_config=self.vision_config,
            text_config=self.text_config,
            projector_hidden_ratio=2.0,
            num_image_tokens=self.num_image_tokens,
            image_token_id=self.image_token_id,
        )

    def prepare_config_and_inputs_for_common(self):
        config = self.get_config()
        pixel_values = floats_tensor([self.batch_size, 3, self.image_size, self.image_size])
        input_ids = ids_tensor([self.batch_size, self.seq_length], self.vocab_size - 2) + 2
        input_ids[input_ids == self.image_token_id] = self.pad_token_id
        input_ids[:, : self.num_image_tokens] = self.image_token_id
        attention_mask = torch.ones(input_ids.shape, dtype=torch.long, device=torch_device)
        return config, {
            "pixel_values": pixel_values,
            "input_ids": input_ids,
            "attention_mask": attention_mask,
        }


class ModaForConditionalGenerationModelTest(ModelTesterMixin, GenerationTesterMixin, unittest.TestCase):
    """`ModelTesterMixin` on `ModaModel` and `ModaForConditionalGeneration`, as llava's test runs it."""

    all_model_classes = (ModaModel, ModaForConditionalGeneration)
    _is_composite = True
    # the mixin dates a model by the copyright line of its config file and skips models "before 2023"; MODA's
    # files carry none, which reads as year 0. The test runs on llava (2023), so it runs here.
    test_can_init_all_missing_weights_before_2023 = True

    def setUp(self):
        self.model_tester = ModaVisionText2TextModelTester(self)
        self.config_tester = configuration_common.ConfigTester(
            self,
            config_class=ModaConfig,
            has_text_modality=False,
            common_properties=["image_token_id", "num_image_tokens"],
        )

    def test_config(self):
        self.config_tester.run_common_tests()

    def test_mismatching_num_image_tokens(self):
        """llava's check: fewer images than `<image>` tokens is a clear error, one image per token works."""
        config, input_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config).to(torch_device).eval()
            inputs = copy.deepcopy(input_dict)
            model(**inputs)
            inputs["pixel_values"] = inputs["pixel_values"][-1:]
            with self.assertRaisesRegex(ValueError, "<image> token"):
                model(**inputs)
            input_ids = torch.cat([inputs["input_ids"][:1]] * 2)
            with self.assertRaisesRegex(ValueError, "<image> token"):
                model(input_ids=input_ids, pixel_values=inputs["pixel_values"][:1])
            model(input_ids=input_ids, pixel_values=torch.cat([inputs["pixel_values"][:1]] * 2))

    @unittest.skip(reason=GRADIENT_CHECKPOINTING_SKIP)
    def test_training_gradient_checkpointing(self):
        pass

    @unittest.skip(reason=GRADIENT_CHECKPOINTING_SKIP)
    def test_training_gradient_checkpointing_use_reentrant_false(self):
        pass

    @unittest.skip(reason=GRADIENT_CHECKPOINTING_SKIP)
    def test_training_gradient_checkpointing_use_reentrant_true(self):
        pass


class ModaProcessorTest(processing_common.ProcessorTesterMixin, unittest.TestCase):
    """`ProcessorTesterMixin` on `ModaProcessor`: a tokenizer trained on the fly, a CLIP image processor."""

    processor_class = ModaProcessor

    @classmethod
    def _setup_tokenizer(cls):
        return train_tokenizer(vocab_size=300)

    @classmethod
    def _setup_image_processor(cls):
        return CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})

    @staticmethod
    def prepare_processor_dict():
        return {"num_image_tokens": 2, "chat_template": PLAIN_CHAT_TEMPLATE}

    @unittest.skip(reason=ONE_IMAGE_PER_PROMPT)
    def test_apply_chat_template_assistant_mask(self):
        pass

    @unittest.skip(reason=ONE_IMAGE_PER_PROMPT)
    def test_get_num_multimodal_tokens_matches_processor_call(self):
        pass

    @unittest.skip(
        reason="by design every row of a MODA batch describes one photo: a batch mixing text-only rows with "
        "image rows is refused with a clear error (one image per prompt: N text(s) but M images)"
    )
    def test_processor_text_has_no_visual(self):
        pass


def test_every_skip_names_a_test_the_mixins_have():
    """A skip copied for a test the installed mixins no longer define would count a phantom in the tally."""
    mixins = {
        ModaForConditionalGenerationModelTest: (ModelTesterMixin, GenerationTesterMixin),
        ModaProcessorTest: (processing_common.ProcessorTesterMixin,),
    }
    for test_class, bases in mixins.items():
        skipped = [
            name
            for name, member in vars(test_class).items()
            if name.startswith("test_") and getattr(member, "__unittest_skip__", False)
        ]
        assert skipped, test_class
        assert [name for name in skipped if not any(hasattr(base, name) for base in bases)] == []
