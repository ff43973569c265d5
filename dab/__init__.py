"""``dab``, the command line of the Domain Assistant Builder: the top layer, above the library
(``builder``) and the wizard (``ui``). See ``dab.cli``."""
