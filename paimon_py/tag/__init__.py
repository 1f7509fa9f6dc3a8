from paimon_py.tag.tag_manager import TagManager

__all__ = ["TagManager"]
