"""What the synthetic catalog can contain: articles (with their Kaggle taxonomy), colours, brands, prints."""

from __future__ import annotations

from dataclasses import dataclass

# Kaggle baseColour names -> the RGB the item is drawn in (the dominant visible colour of the item).
COLOURS: dict[str, tuple[int, int, int]] = {
    "Black": (28, 28, 30),
    "White": (246, 246, 242),
    "Grey": (128, 130, 134),
    "Navy Blue": (30, 42, 92),
    "Blue": (40, 100, 200),
    "Red": (200, 30, 36),
    "Maroon": (110, 20, 36),
    "Green": (34, 139, 60),
    "Olive": (112, 118, 44),
    "Yellow": (240, 200, 30),
    "Orange": (240, 120, 24),
    "Pink": (240, 130, 170),
    "Purple": (110, 50, 150),
    "Brown": (110, 70, 40),
    "Beige": (220, 200, 160),
}
PATTERNS = ("solid", "striped", "checked", "dotted")
PATTERN_WEIGHTS = (0.55, 0.15, 0.15, 0.15)
BRANDS = (
    "Kestrel", "Aurelle", "Northwind", "Velora", "Marlowe", "Tessaro",
    "Corvin", "Lumen", "Pinecrest", "Halden", "Ostara", "Brisa",
)  # fmt: skip
# Words printed on products; never part of any metadata (the OCR check must keep them out of descriptions).
PRINTS = (
    "NOVA", "STAY WILD", "GOOD VIBES", "BROOKLYN 88", "RUN FREE", "ZENITH", "ALOHA",
    "LEGEND", "NO LIMITS", "ORBIT", "WAVE CLUB", "SUNDAY", "RAPTOR", "MIDNIGHT", "DRIFT",
)  # fmt: skip
SEASONS = ("Summer", "Winter", "Fall", "Spring")


@dataclass(frozen=True)
class Article:
    """One article type: its Kaggle taxonomy, how it is drawn, and which metadata values fit it."""

    name: str  # Kaggle articleType
    title: str  # singular noun used in product titles
    master: str
    sub: str
    aspect: float  # width / height of the drawn item
    genders: tuple[str, ...]
    usages: tuple[str, ...]
    seasons: tuple[str, ...] = SEASONS
    patterned: bool = True  # whether it may be striped / checked / dotted
    printable: bool = False  # whether words may be printed on it


ARTICLES: tuple[Article, ...] = (
    Article("Tshirts", "T-shirt", "Apparel", "Topwear", 1.0, ("Men", "Women", "Unisex"),
            ("Casual", "Sports", "Casual"), ("Summer", "Spring", "Fall"), printable=True),
    Article("Shirts", "Shirt", "Apparel", "Topwear", 1.0, ("Men", "Women"),
            ("Formal", "Casual", "Smart Casual")),
    Article("Tops", "Top", "Apparel", "Topwear", 0.7, ("Women",), ("Casual", "Party"), ("Summer", "Spring"),
            printable=True),
    Article("Sweatshirts", "Sweatshirt", "Apparel", "Topwear", 1.0, ("Men", "Women", "Unisex"),
            ("Casual", "Sports"), ("Winter", "Fall"), printable=True),
    Article("Jackets", "Jacket", "Apparel", "Topwear", 1.0, ("Men", "Women"), ("Casual", "Sports"),
            ("Winter", "Fall"), patterned=False),
    Article("Kurtas", "Kurta", "Apparel", "Topwear", 0.75, ("Men", "Women"), ("Ethnic",)),
    Article("Dresses", "Dress", "Apparel", "Dress", 0.8, ("Women",), ("Casual", "Party", "Formal"),
            ("Summer", "Spring", "Fall")),
    Article("Skirts", "Skirt", "Apparel", "Bottomwear", 0.9, ("Women",), ("Casual", "Party", "Formal")),
    Article("Jeans", "Jeans", "Apparel", "Bottomwear", 0.62, ("Men", "Women"), ("Casual",), patterned=False),
    Article("Trousers", "Trousers", "Apparel", "Bottomwear", 0.55, ("Men", "Women"), ("Formal", "Casual"),
            patterned=False),
    Article("Shorts", "Shorts", "Apparel", "Bottomwear", 1.25, ("Men", "Women", "Unisex"),
            ("Casual", "Sports"), ("Summer", "Spring"), printable=True),
    Article("Casual Shoes", "Casual Shoes", "Footwear", "Shoes", 1.7, ("Men", "Women", "Unisex"), ("Casual",),
            patterned=False),
    Article("Sports Shoes", "Sports Shoes", "Footwear", "Shoes", 1.7, ("Men", "Women", "Unisex"), ("Sports",),
            patterned=False),
    Article("Formal Shoes", "Formal Shoes", "Footwear", "Shoes", 1.8, ("Men",), ("Formal",),
            patterned=False),
    Article("Heels", "Heels", "Footwear", "Shoes", 1.4, ("Women",), ("Party", "Formal", "Casual"),
            patterned=False),
    Article("Flip Flops", "Flip Flops", "Footwear", "Flip Flops", 1.1, ("Men", "Women", "Unisex"),
            ("Casual",), ("Summer", "Spring"), patterned=False),
    Article("Sandals", "Sandals", "Footwear", "Sandal", 1.6, ("Men", "Women", "Unisex"), ("Casual",),
            ("Summer", "Spring"), patterned=False),
    Article("Handbags", "Handbag", "Accessories", "Bags", 1.1, ("Women",), ("Casual", "Party", "Formal"),
            printable=True),
    Article("Backpacks", "Backpack", "Accessories", "Bags", 0.8, ("Men", "Women", "Unisex"),
            ("Casual", "Travel"), printable=True),
    Article("Watches", "Watch", "Accessories", "Watches", 0.55, ("Men", "Women", "Unisex"),
            ("Casual", "Formal", "Sports"), patterned=False),
    Article("Caps", "Cap", "Accessories", "Headwear", 1.35, ("Men", "Unisex"), ("Casual", "Sports"),
            ("Summer", "Spring", "Fall"), printable=True),
    Article("Belts", "Belt", "Accessories", "Belts", 2.4, ("Men", "Women"), ("Casual", "Formal"),
            patterned=False),
    Article("Sunglasses", "Sunglasses", "Accessories", "Eyewear", 2.6, ("Men", "Women", "Unisex"),
            ("Casual",), ("Summer", "Spring"), patterned=False),
    Article("Ties", "Tie", "Accessories", "Ties", 0.36, ("Men",), ("Formal",)),
    Article("Socks", "Socks", "Accessories", "Socks", 0.85, ("Men", "Women", "Unisex"), ("Casual", "Sports")),
)  # fmt: skip
ARTICLES_BY_NAME = {article.name: article for article in ARTICLES}
