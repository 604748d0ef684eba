"""Links changed with a parser: code examples untouched, text stays text."""

from adviesblog_common.links import absolute_urls, iter_links

BASE = "https://www.voorbeeld.example/2024/stuk/"


def test_relative_links_images_and_srcset_become_absolute():
    html = ('<p><a href="../over-ons/">over</a> <img src="foto.jpg" '
            'srcset="klein.jpg 1x, groot.jpg 2x" alt=""></p>')
    result = absolute_urls(html, BASE)
    assert 'href="https://www.voorbeeld.example/2024/over-ons/"' in result
    assert 'src="https://www.voorbeeld.example/2024/stuk/foto.jpg"' in result
    assert ('srcset="https://www.voorbeeld.example/2024/stuk/klein.jpg 1x, '
            'https://www.voorbeeld.example/2024/stuk/groot.jpg 2x"') in result


def test_code_examples_are_neither_read_nor_changed():
    html = ('<p>Schrijf <code>&lt;a href="/contact/"&gt;</code></p>'
            '<pre><code><a href="/in-een-blok/">blok</a></code></pre>')
    assert absolute_urls(html, BASE) == html
    assert list(iter_links(html)) == []


def test_text_before_the_first_element_stays_escaped():
    html = 'Tekst over &lt;script&gt; &amp; meer <a href="/x/">x</a>'
    assert absolute_urls(html, BASE) == (
        'Tekst over &lt;script&gt; &amp; meer <a href="https://www.voorbeeld.example/x/">x</a>')


def test_iter_links_names_tag_attribute_and_url():
    html = '<p><a href="{filename}/a.md">a</a><img src="/images/b.svg" alt=""></p>'
    assert list(iter_links(html)) == [("a", "href", "{filename}/a.md"),
                                      ("img", "src", "/images/b.svg")]

