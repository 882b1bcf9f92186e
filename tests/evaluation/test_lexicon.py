"""The lexicon: what a description claims, as canonical Kaggle values."""

from modeling_moda.core.lexicon import colour_matches, colours_of, extract_attributes


def test_synonyms_map_to_the_kaggle_taxonomy():
    a = extract_attributes("Navy tee and grey sneakers for women; ideal for the gym")
    assert a["colours"] == ["Navy Blue", "Grey"]
    assert a["articles"][0] == {"phrase": "tee", "types": ["Tshirts"]}
    assert a["articles"][1] == {"phrase": "sneakers", "types": ["Casual Shoes", "Sports Shoes"]}
    assert a["genders"] == ["Women"] and a["usages"] == ["Sports"]


def test_gender_merging_and_word_boundaries():
    assert extract_attributes("for men and women")["genders"] == ["Unisex"]
    assert extract_attributes("for boys and girls")["genders"] == ["Kids"]
    assert extract_attributes("women's kurta")["genders"] == ["Women"]  # 'men' inside 'women' is not a claim


def test_non_claims_and_styling_advice():
    a = extract_attributes("Blue jeans with belt loops. Pair them with a white shirt for a casual look.")
    assert a["article_types"] == ["Jeans"] and a["colours"] == ["Blue"] and a["usages"] == ["Casual"]
    assert extract_attributes("Red Tape shoes")["colours"] == []


def test_colour_fields_and_families():
    assert colours_of("Black/White") == ["Black", "White"]
    assert colours_of("navy blue") == ["Navy Blue"] and colours_of("NA") == [] and colours_of(None) == []
    assert colour_matches("Blue", "Navy Blue") and colour_matches("Navy Blue", "Blue")
    assert not colour_matches("Navy Blue", "Turquoise Blue")
