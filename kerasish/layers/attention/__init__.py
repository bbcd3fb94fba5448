"""Attention layers: MultiHeadAttention, GroupedQueryAttention, Attention, AdditiveAttention."""
from .attention import AdditiveAttention, Attention
from .grouped_query_attention import GroupedQueryAttention
from .multi_head_attention import MultiHeadAttention

GroupQueryAttention = GroupedQueryAttention  # Keras exports the class under this name

__all__ = ["AdditiveAttention", "Attention", "GroupQueryAttention", "GroupedQueryAttention",
           "MultiHeadAttention"]
