"""Training: recipe config, feature cache, collator, LR schedule, Trainer run, model card."""
