"""Hostile inputs shared by the attack tests of several areas."""

# Nine aliases of the level below, eight levels: 9**9 strings once expanded, from about 370 bytes.
LAUGHS = 'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"x-{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)
