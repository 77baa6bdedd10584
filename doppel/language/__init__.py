"""Language: sentences, words and facts in text, shared by every layer above it.

Neither knowledge nor agents own these: the facts review (knowledge) and the grounding check
(agents) must read a price the same way, and neither may import the other's internals.
"""
