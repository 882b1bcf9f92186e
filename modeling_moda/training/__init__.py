"""Training: recipe config, feature cache, collator, LR schedule, the Trainer run, the quickstart and the model card."""
