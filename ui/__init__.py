"""Streamlit helpers shared by the pages: cached connection and queries, sidebar filters, downloads."""
