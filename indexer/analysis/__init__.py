"""indexer.analysis: text to tokens — jieba with the domain dictionary, n-grams, synonyms."""
