"""Runs the judge's `peer_words.py --method gensim` with another gensim seed: the judge's script
fixes `seed=1`; this wrapper (imports the judge, copies nothing) replaces gensim's `Word2Vec` by one
whose `seed` is GENSIM_SEED, everything else as the judge sets it.

    GENSIM_SEED=4 PY Benchmarks/words/gensim_seed.py --method gensim --quiet-wait 0 --out g4.json
"""
import os, sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "shared", "judge"))
import gensim.models  # noqa: E402
import peer_words  # noqa: E402

seed = int(os.environ["GENSIM_SEED"])
Base = gensim.models.Word2Vec


class Seeded(Base):
    def __init__(self, *args, **kwargs):
        kwargs["seed"] = seed
        super().__init__(*args, **kwargs)


gensim.models.Word2Vec = Seeded
sys.argv[0] = peer_words.__file__
peer_words.main()
