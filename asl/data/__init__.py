"""Raw-data reading, the built-in sample, cleaning, preprocessing, splits, augmentation and datasets."""
