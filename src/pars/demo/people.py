"""Arrested people, victims and witnesses for the demonstration world (CONTRACT §4, §12).

Names come from the communities that live in Philadelphia, in proportions loosely like the city's
arrest population: most in Latin script, some with accents (José, Nguyễn, Wiśniewski), apostrophes
and hyphens, and a couple of percent in Chinese, Korean or Arabic script. The demo needs those,
because PARS stores names byte for byte and matches them normalised, and because the ICE story is
about place of birth and citizenship. Every value is made up; phone numbers are in the 555-01NN
range reserved for fiction.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypedDict

from pars.demo.places import Address, random_address

RACES = (
    "Black",
    "White",
    "Asian",
    "American Indian or Alaska Native",
    "Native Hawaiian or Other Pacific Islander",
    "Unknown",
)
ETHNICITIES = ("Hispanic", "Non-Hispanic", "Unknown")


class Name(TypedDict):
    first: str | None
    middle: str | None
    last: str | None
    suffix: str | None


class Person(TypedDict):
    name: Name
    aliases: list[Name]
    dob: str
    sex: str
    race: str
    ethnicity: str
    place_of_birth: str
    citizenship: str
    address: Address
    phone: str
    sid: str | None
    fbi_number: str | None


class Party(TypedDict):
    """A victim or a witness (both protected fields of the record)."""

    name: Name
    dob: str
    address: Address
    phone: str


def _names(text: str) -> tuple[str, ...]:
    """Name lists are written as comma-separated text so that 1,500 names stay readable."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _scripted(text: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """Reads ``native=Roman`` pairs (or a bare romanised name) into the romanised pool and a map
    from the romanised form to the native one."""
    pool: list[str] = []
    native: dict[str, str] = {}
    for part in _names(text):
        own, _, roman = part.rpartition("=")
        pool.append(roman)
        if own:
            native[roman] = own
    return tuple(pool), native


def _born(text: str) -> tuple[tuple[str, str, float], ...]:
    """Reads ``place/country code/weight; ...``; places keep their own commas (``Kyiv, Ukraine``)."""
    rows = []
    for part in text.split(";"):
        place, country, weight = part.strip().rsplit("/", 2)
        rows.append((place, country, float(weight)))
    return tuple(rows)


@dataclass(frozen=True)
class _Origin:
    male: tuple[str, ...]
    female: tuple[str, ...]
    last: tuple[str, ...]
    race: dict[str, float]
    hispanic: bool
    # (place of birth, ISO country code, weight); a US birthplace means US citizenship.
    born: tuple[tuple[str, str, float], ...]
    weight: float  # share of the arrested population
    naturalised: float = 0.5
    middle_rate: float = 0.25
    middle_male: tuple[str, ...] = ()  # empty: a second given name from the first-name pool
    middle_female: tuple[str, ...] = ()
    suffix_rate: float = 0.0
    plain_rate: float = 0.0  # written without diacritics, as many records are
    script_rate: float = 0.0  # written in the native script (needs the map below)
    native: dict[str, str] = field(default_factory=dict)
    english_first_rate: float = 0.0  # an adopted English given name (Kevin Chen)
    compound_rate: float = 0.03  # two surnames (Smith-Jones, Peña Rodríguez)
    feminine: bool = False  # Slavic surnames take a feminine ending for women


_WHITE = {"White": 0.98, "Unknown": 0.02}
_BLACK = {"Black": 0.98, "Unknown": 0.02}
_ASIAN = {"Asian": 0.97, "Unknown": 0.03}
_PHILLY_BORN = _born(
    "Philadelphia, PA/US/80; Camden, NJ/US/3; Chester, PA/US/3; Baltimore, MD/US/3; "
    "Newark, NJ/US/2; Wilmington, DE/US/2; Brooklyn, NY/US/2; Richmond, VA/US/1; Atlanta, GA/US/1; "
    "Norristown, PA/US/1; Charleston, SC/US/1"
)
_SUFFIXES = (("Jr", 60), ("III", 15), ("II", 12), ("Sr", 10), ("IV", 3))
_ENGLISH_MALE = _names(
    "Kevin, David, Michael, Peter, Eric, Vincent, Tony, Jimmy, Andy, Steven, Daniel, Jason, Henry, Johnny, Danny, Alex"
)
_ENGLISH_FEMALE = _names(
    "Jenny, Tina, Amy, Linda, Helen, Cindy, Grace, Jennifer, Kelly, Lisa, Annie, Christine, "
    "Vivian, Michelle, Stephanie, Julie"
)

_ZH_LAST, _ZH_LAST_NATIVE = _scripted(
    "王=Wang, 李=Li, 张=Zhang, 刘=Liu, 陈=Chen, 杨=Yang, 黄=Huang, 赵=Zhao, 吴=Wu, 周=Zhou, 徐=Xu, 孙=Sun, 马=Ma, "
    "朱=Zhu, 胡=Hu, 郭=Guo, 何=He, 林=Lin, 高=Gao, 罗=Luo, 郑=Zheng, 梁=Liang, 谢=Xie, 宋=Song, 唐=Tang, 韩=Han, "
    "冯=Feng, 邓=Deng, 曹=Cao, 曾=Zeng, Chan, Wong, Lee, Chin, Ng, Lau, Cheung, Leung, Yee, Tam, Fong, Kwok"
)
_ZH_MALE, _ZH_MALE_NATIVE = _scripted(
    "伟=Wei, 强=Qiang, 磊=Lei, 勇=Yong, 杰=Jie, 涛=Tao, 斌=Bin, 鹏=Peng, 峰=Feng, 凯=Kai, 明=Ming, 刚=Gang, 辉=Hui, "
    "志强=Zhiqiang, 建华=Jianhua, 晓明=Xiaoming, 国栋=Guodong, 宇轩=Yuxuan, 子豪=Zihao, 文杰=Wenjie, 家豪=Jiahao, "
    "俊杰=Junjie, 浩然=Haoran, 建国=Jianguo, Wing, Kwan, Man Kit, Siu Ming"
)
_ZH_FEMALE, _ZH_FEMALE_NATIVE = _scripted(
    "芳=Fang, 娜=Na, 敏=Min, 静=Jing, 丽=Li, 艳=Yan, 娟=Juan, 霞=Xia, 玲=Ling, 婷=Ting, 雪=Xue, 秀英=Xiuying, "
    "桂英=Guiying, 晓燕=Xiaoyan, 美玲=Meiling, 丽娟=Lijuan, 雨涵=Yuhan, 欣怡=Xinyi, 梓涵=Zihan, 佳怡=Jiayi, "
    "思琪=Siqi, 淑芬=Shufen, 春梅=Chunmei, 红=Hong, Mei Ling, Siu Wan, Lai Ying"
)

_KO_LAST, _KO_LAST_NATIVE = _scripted(
    "김=Kim, 이=Lee, 박=Park, 최=Choi, 정=Jung, 강=Kang, 조=Cho, 윤=Yoon, 장=Jang, 임=Lim, 한=Han, 오=Oh, 서=Seo, "
    "신=Shin, 권=Kwon, 황=Hwang, 안=Ahn, 송=Song, 류=Yoo, 홍=Hong, 전=Jeon, 고=Ko, 문=Moon, 양=Yang, 손=Son, 배=Bae, "
    "백=Baek, 허=Heo, 남=Nam, 노=Noh"
)
_KO_MALE, _KO_MALE_NATIVE = _scripted(
    "민준=Min-jun, 서준=Seo-jun, 도윤=Do-yoon, 지호=Ji-ho, 준서=Jun-seo, 현우=Hyun-woo, 성민=Sung-min, 재현=Jae-hyun, "
    "동현=Dong-hyun, 영호=Young-ho, 정훈=Jung-hoon, 상철=Sang-chul, 승우=Seung-woo, 준호=Jun-ho, 태현=Tae-hyun, "
    "진우=Jin-woo, 민수=Min-su, 성호=Sung-ho, 종현=Jong-hyun, 경수=Kyung-soo"
)
_KO_FEMALE, _KO_FEMALE_NATIVE = _scripted(
    "서연=Seo-yeon, 지우=Ji-woo, 서윤=Seo-yun, 하은=Ha-eun, 민지=Min-ji, 지현=Ji-hyun, 수진=Su-jin, 은정=Eun-jung, "
    "혜진=Hye-jin, 미경=Mi-kyung, 영희=Young-hee, 지영=Ji-young, 은영=Eun-young, 수빈=Su-bin, 예린=Ye-rin, "
    "유나=Yu-na, 미영=Mi-young, 소영=So-young, 현정=Hyun-jung, 선영=Sun-young"
)

_AR_MALE, _AR_MALE_NATIVE = _scripted(
    "محمد=Mohammed, أحمد=Ahmed, علي=Ali, عمر=Omar, يوسف=Youssef, خالد=Khaled, حسن=Hassan, حسين=Hussein, "
    "إبراهيم=Ibrahim, مصطفى=Mustafa, عبد الله=Abdullah, محمود=Mahmoud, سعيد=Said, طارق=Tariq, كريم=Karim, "
    "ياسر=Yasser, سامي=Sami, فادي=Fadi, عماد=Imad, ناصر=Nasser, بلال=Bilal, زياد=Ziad, رامي=Rami, وليد=Walid, "
    "جمال=Jamal"
)
_AR_FEMALE, _AR_FEMALE_NATIVE = _scripted(
    "فاطمة=Fatima, عائشة=Aisha, مريم=Maryam, نور=Nour, ليلى=Layla, سارة=Sara, هدى=Huda, ياسمين=Yasmin, زينب=Zainab, "
    "رانيا=Rania, سلمى=Salma, أمل=Amal, دينا=Dina, هبة=Heba, منى=Mona, رنا=Rana, لينا=Lina, خديجة=Khadija, "
    "نادية=Nadia, سميرة=Samira"
)
_AR_LAST, _AR_LAST_NATIVE = _scripted(
    "حداد=Haddad, خوري=Khoury, منصور=Mansour, الخطيب=Al-Khatib, المصري=El-Masri, صالح=Saleh, عبد الرحمن=Abdelrahman, "
    "إبراهيم=Ibrahim, يوسف=Youssef, ناصر=Nasser, حمدان=Hamdan, عودة=Odeh, شحادة=Shehadeh, جابر=Jaber, عيسى=Issa, "
    "قاسم=Kassem, عثمان=Osman, درويش=Darwish, زيدان=Zidan, عوض=Awad, فرح=Farah, بكر=Bakr, سليمان=Suleiman, "
    "نجار=Najjar, عطية=Attia, حسن=Hassan, علي=Ali, سعيد=Saeed"
)

_ORIGINS: dict[str, _Origin] = {
    "african_american": _Origin(
        _names(
            "Tyrell, Jamal, DeShawn, Marcus, Darnell, Andre, Terrence, Malik, Jerome, Kevin, Rasheed, Hakim, "
            "Kareem, Tariq, Jamil, Dwayne, Antoine, Lamont, Rashad, Khalil, Isaiah, Jaylen, Darius, Troy, Keith, "
            "Curtis, Maurice, Reginald, Anthony, Michael, D'Andre, De'Von, Ja'Quan, Na'im"
        ),
        _names(
            "Aaliyah, Keisha, Tamika, LaToya, Shanice, Imani, Jasmine, Destiny, Ebony, Monique, Tiana, Kiara, "
            "Nia, Brianna, Danielle, Aisha, Jada, Khadijah, Nadirah, Tanisha, Yolanda, Denise, Crystal, "
            "Dominique, Ayanna, Raven, Zakiyyah, Jameelah, Ja'Nae, Sha'Ron"
        ),
        _names(
            "Johnson, Williams, Brown, Jones, Jackson, Davis, Smith, Harris, Robinson, Thomas, Wright, Green, "
            "Washington, Jenkins, Coleman, Mitchell, Walker, Wilson, Moore, Taylor, Lewis, Allen, Young, Scott, "
            "King, Baker, Carter, Gibson, Bryant, Simmons, Hill, Butler, Reed, Griffin, Pressley, Hairston, "
            "Muhammad, Abdullah"
        ),
        _BLACK,
        False,
        _PHILLY_BORN,
        weight=44,
        middle_rate=0.35,
        suffix_rate=0.09,
    ),
    "puerto_rican": _Origin(
        _names(
            "José, Luis, Carlos, Juan, Ángel, Miguel, Jesús, Pedro, Héctor, Edwin, Wilfredo, Orlando, Raúl, "
            "Jorge, Xavier, Jonathan, Christian, Efraín, Rubén, Julio, Israel, Jomar, Yadiel, Joel, Alexis, "
            "Víctor, Ramón, Nelson, Elvin, Gilberto"
        ),
        _names(
            "María, Carmen, Ana, Luz, Jessica, Yesenia, Marisol, Nilda, Gladys, Lizbeth, Noemí, Mariela, Janet, "
            "Iris, Milagros, Ivelisse, Keishla, Yaritza, Zuleyka, Glorimar, Wanda, Migdalia, Sonia, Daisy, "
            "Maritza, Génesis, Kiara, Nayeli"
        ),
        _names(
            "Rodríguez, Rivera, Santiago, Colón, Torres, Cruz, Díaz, Ortiz, Ramos, Hernández, Vázquez, Meléndez, "
            "Figueroa, Pagán, Reyes, Morales, Ayala, Negrón, Báez, Rosario, Velázquez, Maldonado, Quiñones, "
            "Vega, Rosado, Cintrón, Serrano, Soto, Acevedo, Nieves, Medina, Pérez, Muñoz, Camacho, Marrero, "
            "Burgos"
        ),
        {"White": 0.5, "Black": 0.15, "Unknown": 0.33, "American Indian or Alaska Native": 0.02},
        True,
        _born(
            "Philadelphia, PA/US/60; San Juan, PR/US/12; Bayamón, PR/US/6; Caguas, PR/US/5; Ponce, PR/US/5; "
            "Arecibo, PR/US/3; Camden, NJ/US/3; Bronx, NY/US/3; Reading, PA/US/3"
        ),
        weight=10,
        middle_rate=0.3,
        suffix_rate=0.02,
        plain_rate=0.4,
        compound_rate=0.15,
    ),
    "dominican": _Origin(
        _names(
            "José, Juan, Ramón, Francisco, Rafael, Manuel, Luis, Miguel, Yunior, Wander, Franklin, Anderson, "
            "Starlin, Yeison, Wilkin, Dionisio, Darío, Ángel, Eduardo, Félix, Fausto, Alexander, Elvis, "
            "Radhamés, Yordy"
        ),
        _names(
            "Yokasta, Altagracia, Mercedes, Rosanna, Yanira, Massiel, Nathalie, Leidy, Yuleisy, Mayelin, Ana, "
            "Rosa, Francisca, Dulce, Esmeralda, Juana, Luz, Maribel, Yris, Arisleida, Yudelka, Griselda, Ingrid, "
            "Scarlet, Yinett"
        ),
        _names(
            "Peña, De La Cruz, Almonte, Guzmán, Núñez, Jiménez, Santana, Féliz, Polanco, Mejía, Tavárez, Ureña, "
            "Abreu, Batista, Castillo, Fernández, García, Martínez, Rosario, Paulino, Encarnación, Familia, "
            "Genao, Lantigua, Mota, Frías, Espinal, Valdez, Brito, Bautista"
        ),
        {"Black": 0.35, "White": 0.25, "Unknown": 0.4},
        True,
        _born(
            "Santo Domingo, Dominican Republic/DO/40; Santiago, Dominican Republic/DO/15; "
            "San Francisco de Macorís, Dominican Republic/DO/8; Dominican Republic/DO/5; Philadelphia, PA/US/25; "
            "Bronx, NY/US/7"
        ),
        weight=3,
        naturalised=0.45,
        middle_rate=0.3,
        plain_rate=0.4,
        compound_rate=0.2,
    ),
    "mexican": _Origin(
        _names(
            "José, Juan, Miguel, Jesús, Francisco, Alejandro, Fernando, Ricardo, Eduardo, Adrián, Javier, Óscar, "
            "Sergio, Arturo, Gerardo, Marco, Jorge, Efrén, Rogelio, Isidro, Bernardino, Guadalupe, Alfredo, "
            "Ulises"
        ),
        _names(
            "Guadalupe, María, Verónica, Alejandra, Leticia, Adriana, Araceli, Rocío, Gabriela, Mónica, Claudia, "
            "Elena, Juana, Patricia, Beatriz, Yesenia, Brenda, Itzel, Xóchitl, Citlali, Marisol, Fernanda, "
            "Ximena, Estela"
        ),
        _names(
            "Hernández, García, Martínez, López, González, Pérez, Sánchez, Ramírez, Flores, Gómez, Vargas, "
            "Castillo, Mendoza, Ruiz, Ortega, Domínguez, Gutiérrez, Chávez, Juárez, Aguilar, Salazar, Romero, "
            "Ibarra, Muñoz, Herrera, Luna, Cervantes, Bautista, Zamora, Tecuanhuey"
        ),
        {"White": 0.5, "Unknown": 0.4, "American Indian or Alaska Native": 0.1},
        True,
        _born(
            "Puebla, Mexico/MX/40; San Mateo Ozolco, Puebla, Mexico/MX/8; Tlaxcala, Mexico/MX/8; "
            "Mexico City, Mexico/MX/8; Mexico/MX/6; Philadelphia, PA/US/25; Kennett Square, PA/US/5"
        ),
        weight=3,
        naturalised=0.25,
        middle_rate=0.3,
        plain_rate=0.4,
        compound_rate=0.15,
    ),
    "irish": _Origin(
        _names(
            "Sean, Patrick, Brian, Kevin, Michael, John, James, Thomas, Daniel, Ryan, Connor, Kyle, Brendan, "
            "Matthew, Timothy, Joseph, Liam, Shane, Francis, Dennis, Edward, Robert, William, Christopher, "
            "Kieran"
        ),
        _names(
            "Kathleen, Maureen, Colleen, Erin, Kelly, Shannon, Megan, Bridget, Katie, Siobhan, Caitlin, Eileen, "
            "Mary, Patricia, Theresa, Margaret, Nora, Kristen, Jennifer, Heather, Nicole, Ashley, Kayleigh, "
            "Deirdre, Maeve, Sinéad"
        ),
        _names(
            "O'Brien, O'Neill, O'Connor, O'Donnell, O'Malley, O'Reilly, McBride, McCarthy, McLaughlin, McGinley, "
            "McDevitt, Gallagher, Kelly, Murphy, Sullivan, Walsh, Byrne, Ryan, Doherty, Boyle, Brennan, "
            "Flanagan, Dougherty, Quinn, Kennedy, Fitzgerald, Monaghan, Sweeney, Coyle, Devlin"
        ),
        _WHITE,
        False,
        _born("Philadelphia, PA/US/80; Delaware County, PA/US/10; Bucks County, PA/US/5"),
        weight=8,
        middle_rate=0.35,
        suffix_rate=0.04,
    ),
    "italian": _Origin(
        _names(
            "Anthony, Joseph, Vincent, Salvatore, Dominic, Nicholas, Frank, Michael, Louis, Carmen, Angelo, "
            "Gino, Marco, Paul, Christopher, Robert, Matteo, Giovanni, Rocco, Carmine, Enzo, Stephen, Mario, "
            "Ralph, Nicola"
        ),
        _names(
            "Maria, Angela, Gina, Theresa, Rosemarie, Francesca, Nicole, Christina, Lisa, Carmela, Antoinette, "
            "Anna, Gabriella, Jessica, Marisa, Daniela, Lucia, Sofia, Giuliana, Donna, Denise, Michelle, "
            "Concetta, Filomena, Rosa"
        ),
        _names(
            "D'Angelo, D'Amico, DiNardo, DiGiacomo, DeLuca, Esposito, Russo, Romano, Ricci, Bruno, Marino, "
            "Greco, Conti, Costa, Gallo, Mancini, Rizzo, Lombardi, Moretti, Ferrara, Caruso, Fiorentino, "
            "Santangelo, Pagano, Vitale, Amato, Iannelli, DiPietro, Morrone, Giordano, Palumbo, Rossi"
        ),
        _WHITE,
        False,
        _born("Philadelphia, PA/US/80; Delaware County, PA/US/8; Palermo, Italy/IT/2"),
        weight=6,
        naturalised=0.9,
        middle_rate=0.3,
        suffix_rate=0.05,
    ),
    "anglo_german": _Origin(
        _names(
            "William, Robert, Richard, Charles, George, Steven, Mark, Scott, Eric, Jeffrey, Gary, Brian, Kurt, "
            "Travis, Cody, Dustin, Justin, Tyler, Zachary, Derek, Wayne, Randall, Kenneth, Craig, Dale"
        ),
        _names(
            "Susan, Karen, Donna, Linda, Lisa, Amanda, Amber, Brittany, Samantha, Stephanie, Tiffany, Crystal, "
            "Melissa, Rebecca, Tara, Dawn, Tammy, Heidi, Kristin, Holly, Courtney, Chelsea, Lindsay, Carrie, "
            "Jill"
        ),
        _names(
            "Miller, Schmidt, Wagner, Becker, Fischer, Hoffman, Schneider, Meyer, Weber, Koch, Bauer, Zimmerman, "
            "Kramer, Schaefer, Snyder, Yeager, Hess, Smith, Jones, Baker, Clark, Hall, Moore, Walker, Thompson, "
            "Wood, Parker, Stewart, Collins, Price"
        ),
        _WHITE,
        False,
        _born("Philadelphia, PA/US/80; Bucks County, PA/US/8; Allentown, PA/US/4; Scranton, PA/US/3"),
        weight=5,
        middle_rate=0.4,
        suffix_rate=0.04,
    ),
    "polish": _Origin(
        _names(
            "Stanley, Joseph, Edward, Walter, Stephen, Thomas, Tadeusz, Krzysztof, Piotr, Paweł, Marek, Andrzej, "
            "Tomasz, Michał, Jakub, Łukasz, Kamil, Mateusz, Wojciech, Kazimierz, Zbigniew, Henry, Chester, Jan, "
            "Adam"
        ),
        _names(
            "Anna, Katarzyna, Małgorzata, Agnieszka, Barbara, Ewa, Joanna, Magdalena, Monika, Dorota, Elżbieta, "
            "Krystyna, Zofia, Jadwiga, Helen, Stella, Irene, Dorothy, Carol, Karolina, Natalia, Aleksandra, "
            "Justyna, Beata"
        ),
        _names(
            "Kowalski, Nowak, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński, Szymański, "
            "Woźniak, Dąbrowski, Kozłowski, Jankowski, Mazur, Krawczyk, Piotrowski, Grabowski, Pawlak, "
            "Michalski, Nowicki, Adamczyk, Dudek, Zając, Wróbel, Król, Jabłoński, Majewski, Olszewski, Stępień, "
            "Czarnecki, Kaczmarek"
        ),
        _WHITE,
        False,
        _born("Philadelphia, PA/US/70; Kraków, Poland/PL/10; Warsaw, Poland/PL/8; Rzeszów, Poland/PL/5"),
        weight=3,
        naturalised=0.6,
        middle_rate=0.2,
        plain_rate=0.3,
        feminine=True,
    ),
    "russian_ukrainian": _Origin(
        _names(
            "Aleksandr, Dmitry, Sergei, Andrei, Alexei, Mikhail, Ivan, Nikolai, Vladimir, Yuri, Oleg, Igor, "
            "Maksim, Artem, Pavel, Viktor, Roman, Bohdan, Taras, Mykola, Oleksandr, Volodymyr, Serhiy, Vitaliy, "
            "Denys, Yevhen, Anatoliy"
        ),
        _names(
            "Olga, Natalia, Irina, Svetlana, Tatiana, Yelena, Anna, Maria, Ekaterina, Anastasia, Yulia, Oksana, "
            "Larisa, Galina, Lyudmila, Valentina, Daria, Viktoriya, Alina, Kateryna, Olena, Iryna, Nadiya, "
            "Halyna, Khrystyna, Marina, Inna"
        ),
        _names(
            "Ivanov, Petrov, Smirnov, Kuznetsov, Popov, Volkov, Sokolov, Morozov, Novikov, Kozlov, Pavlov, "
            "Orlov, Zhukov, Lebedev, Shevchenko, Kovalenko, Bondarenko, Tkachenko, Kravchenko, Melnyk, Boyko, "
            "Kovalchuk, Oliynyk, Savchenko, Rudenko, Lysenko, Marchenko, Moroz, Petrenko, Kravets"
        ),
        _WHITE,
        False,
        _born(
            "Kyiv, Ukraine/UA/20; Odesa, Ukraine/UA/10; Kharkiv, Ukraine/UA/8; Moscow, Russia/RU/8; "
            "Saint Petersburg, Russia/RU/5; Minsk, Belarus/BY/4; Philadelphia, PA/US/45"
        ),
        weight=2.5,
        naturalised=0.6,
        middle_rate=0.1,
        feminine=True,
    ),
    "jewish": _Origin(
        _names(
            "David, Michael, Daniel, Jacob, Benjamin, Samuel, Joshua, Aaron, Adam, Jonathan, Eli, Noah, Ari, "
            "Max, Seth, Jeffrey, Steven, Howard, Marc, Evan, Yosef, Moshe, Avi, Mordechai"
        ),
        _names(
            "Rachel, Sarah, Rebecca, Leah, Miriam, Hannah, Esther, Naomi, Deborah, Judith, Ilana, Shira, Talia, "
            "Abigail, Jessica, Lauren, Jamie, Stephanie, Amy, Marcy, Elana, Tova, Batya, Chana"
        ),
        _names(
            "Cohen, Levy, Goldberg, Shapiro, Friedman, Katz, Rosen, Greenberg, Kaplan, Weiss, Schwartz, Klein, "
            "Rubin, Feldman, Segal, Bernstein, Rosenberg, Horowitz, Adler, Goldstein, Levine, Gold, Stein, "
            "Silverman, Resnick, Abramowitz, Mandel, Zucker, Perlman, Gelman"
        ),
        _WHITE,
        False,
        _born(
            "Philadelphia, PA/US/70; Cherry Hill, NJ/US/8; Brooklyn, NY/US/8; Tel Aviv, Israel/IL/4; Kyiv, Ukraine/UA/3"
        ),
        weight=1.5,
        naturalised=0.8,
        middle_rate=0.3,
        suffix_rate=0.02,
    ),
    "west_african": _Origin(
        _names(
            "Emmanuel, Moses, Prince, Samuel, Joseph, Abraham, Varney, Momo, Sekou, Boima, Fayiah, Chinedu, "
            "Emeka, Oluwaseun, Tunde, Chukwuemeka, Adebayo, Ifeanyi, Olumide, Obinna, Babatunde, Kelechi, "
            "Uchenna, Segun, Femi, Nnamdi, Kayode, Mamadou, Ousmane, Kwame"
        ),
        _names(
            "Comfort, Musu, Fatu, Hawa, Mamie, Kebeh, Oretha, Patience, Yatta, Sia, Massa, Korto, Famatta, "
            "Jeneba, Chioma, Ngozi, Adaeze, Funmilayo, Oluwakemi, Yetunde, Nneka, Ifeoma, Temitope, Amaka, "
            "Folake, Blessing, Precious, Chinwe, Abimbola, Aminata"
        ),
        _names(
            "Kollie, Kromah, Flomo, Sumo, Dolo, Toe, Tarr, Jallah, Kamara, Massaquoi, Sackor, Wreh, Zinnah, "
            "Kanneh, Togba, Kpoto, Konneh, Fofana, Okafor, Okonkwo, Adeyemi, Balogun, Chukwu, Eze, Nwosu, Obi, "
            "Oladipo, Adebayo, Ogunleye, Bello, Okoro, Akinola, Ogbonna, Afolabi, Ojo, Diallo, Mensah, Asante"
        ),
        {"Black": 0.99, "Unknown": 0.01},
        False,
        _born(
            "Monrovia, Liberia/LR/30; Lagos, Nigeria/NG/12; Abuja, Nigeria/NG/5; Freetown, Sierra Leone/SL/8; "
            "Accra, Ghana/GH/6; Conakry, Guinea/GN/5; Liberia/LR/4; Philadelphia, PA/US/30"
        ),
        weight=3,
        naturalised=0.55,
        middle_rate=0.3,
    ),
    "vietnamese": _Origin(
        _names(
            "Minh, Tuấn, Hùng, Dũng, Thanh, Quang, Long, Hải, Phúc, Khoa, Bảo, Huy, Nam, Vinh, Sơn, Đức, Cường, "
            "Thắng, Trung, Hiếu, Tâm, Tiến, Kiệt, Lộc, Phong, Tài, Toàn, Việt, Hoàng, An"
        ),
        _names(
            "Lan, Hương, Mai, Linh, Ngọc, Thảo, Trang, Hạnh, Hoa, Phương, Thủy, Nhung, Loan, Vy, Anh, Hằng, Yến, "
            "Diễm, Nga, Oanh, Tuyết, Quỳnh, Hiền, Thu, My, Nhi, Trâm, Uyên, Giang, Xuân"
        ),
        _names(
            "Nguyễn, Trần, Lê, Phạm, Hoàng, Huỳnh, Phan, Vũ, Võ, Đặng, Bùi, Đỗ, Hồ, Ngô, Dương, Lý, Đào, Đinh, "
            "Mai, Trương, Lâm, Tạ, Châu, Quách, Lưu, Thái, Cao, Hà, Tô, La"
        ),
        _ASIAN,
        False,
        _born(
            "Ho Chi Minh City, Vietnam/VN/25; Saigon, Vietnam/VN/8; Hanoi, Vietnam/VN/6; Da Nang, Vietnam/VN/5; "
            "Vietnam/VN/5; Philadelphia, PA/US/51"
        ),
        weight=2.5,
        naturalised=0.7,
        plain_rate=0.45,
        english_first_rate=0.15,
        compound_rate=0.0,
        # The Vietnamese middle name marks sex more than it names the person.
        middle_rate=0.7,
        middle_male=_names("Văn, Đức, Minh, Quốc, Hữu, Thanh, Công"),
        middle_female=_names("Thị, Ngọc, Thu, Kim, Thanh, Mỹ"),
    ),
    "cambodian": _Origin(
        _names(
            "Sokha, Vuthy, Rithy, Dara, Sophal, Visal, Bunthoeun, Chantha, Samnang, Sokun, Vannak, Sambath, "
            "Kosal, Piseth, Ratha, Sovann, Narith, Chamroeun, Veasna, Sothea, Borey, Sopheak, Vichet, Sarath, "
            "Pheakdey"
        ),
        _names(
            "Sreymom, Sophea, Bopha, Chanthou, Sreyleak, Channary, Maly, Sokunthea, Theary, Rachana, Phalla, "
            "Kalliyan, Davy, Sreypov, Chenda, Leakena, Vanna, Kanha, Mealea, Sothy, Pisey, Thida, Sovanna, Navy, "
            "Bunnary"
        ),
        _names(
            "Sok, Chhay, Chea, Keo, Kim, Heng, Lim, Meas, Ouk, Pich, Prak, Sam, Seng, Sin, Som, Touch, Yim, "
            "Long, Mao, Nhem, Chhim, Phan, Sorn, Tep, Uy, Vann, Chan, Ly, Ros, Hak"
        ),
        _ASIAN,
        False,
        _born(
            "Phnom Penh, Cambodia/KH/20; Battambang, Cambodia/KH/8; Khao-I-Dang, Thailand/TH/5; Cambodia/KH/5; "
            "Philadelphia, PA/US/55; Lowell, MA/US/7"
        ),
        weight=1.2,
        naturalised=0.6,
        middle_rate=0.1,
        english_first_rate=0.15,
        compound_rate=0.0,
    ),
    "chinese": _Origin(
        _ZH_MALE,
        _ZH_FEMALE,
        _ZH_LAST,
        _ASIAN,
        False,
        _born(
            "Fuzhou, China/CN/20; Changle, Fujian, China/CN/8; Guangzhou, China/CN/8; Hong Kong/HK/6; "
            "Taipei, Taiwan/TW/4; New York, NY/US/10; Philadelphia, PA/US/44"
        ),
        weight=2.5,
        naturalised=0.55,
        middle_rate=0.0,
        english_first_rate=0.3,
        compound_rate=0.0,
        script_rate=0.4,
        native={**_ZH_LAST_NATIVE, **_ZH_MALE_NATIVE, **_ZH_FEMALE_NATIVE},
    ),
    "korean": _Origin(
        _KO_MALE,
        _KO_FEMALE,
        _KO_LAST,
        _ASIAN,
        False,
        _born(
            "Seoul, South Korea/KR/30; Busan, South Korea/KR/8; Incheon, South Korea/KR/5; "
            "Philadelphia, PA/US/45; Cheltenham, PA/US/12"
        ),
        weight=1,
        naturalised=0.6,
        middle_rate=0.0,
        english_first_rate=0.35,
        compound_rate=0.0,
        script_rate=0.3,
        native={**_KO_LAST_NATIVE, **_KO_MALE_NATIVE, **_KO_FEMALE_NATIVE},
    ),
    "arabic": _Origin(
        _AR_MALE,
        _AR_FEMALE,
        _AR_LAST,
        {"White": 0.9, "Unknown": 0.1},
        False,
        _born(
            "Cairo, Egypt/EG/12; Alexandria, Egypt/EG/5; Beirut, Lebanon/LB/6; Amman, Jordan/JO/6; "
            "Damascus, Syria/SY/6; Baghdad, Iraq/IQ/6; Sana'a, Yemen/YE/5; Casablanca, Morocco/MA/4; "
            "Philadelphia, PA/US/40; Paterson, NJ/US/5"
        ),
        weight=2,
        naturalised=0.55,
        middle_rate=0.1,
        compound_rate=0.0,
        script_rate=0.35,
        native={**_AR_LAST_NATIVE, **_AR_MALE_NATIVE, **_AR_FEMALE_NATIVE},
    ),
}

# A few records carry a race that no name predicts (mixed heritage, a clerk's choice); without
# them the two smallest categories would never appear.
_ODD_RACE_RATE = 0.006
_ODD_RACES = ("American Indian or Alaska Native", "Native Hawaiian or Other Pacific Islander", "Unknown")
# Adults arrested in the city skew young: (lowest age, highest age, weight).
_ARREST_AGES = ((18, 24, 26), (25, 34, 36), (35, 44, 21), (45, 54, 11), (55, 64, 5), (65, 75, 1))
_AREA_CODES = (("215", 60), ("267", 30), ("445", 5), ("610", 3), ("856", 2))
# FBI numbers avoid letters that read as digits.
_FBI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
# Đ and Ł have no Unicode decomposition, so NFKD alone would leave them in a "plain" spelling.
_UNDECOMPOSABLE = str.maketrans({"Đ": "D", "đ": "d", "Ł": "L", "ł": "l"})


def plain_spelling(text: str) -> str:
    """The name without diacritics, as an older system or a hurried clerk would type it."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pick_origin(rng: random.Random) -> _Origin:
    origins = list(_ORIGINS.values())
    return rng.choices(origins, weights=[o.weight for o in origins])[0]


def _feminine(last: str) -> str:
    for ending, female in (("ski", "ska"), ("cki", "cka"), ("ov", "ova"), ("ev", "eva"), ("in", "ina")):
        if last.endswith(ending):
            return last[: -len(ending)] + female
    return last


def _name(rng: random.Random, origin: _Origin, sex: str) -> tuple[Name, Name | None]:
    """A name for ``sex`` from ``origin``, and its romanised form when it is in native script."""
    female = sex == "F" or (sex == "X" and rng.random() < 0.5)
    firsts = origin.female if female else origin.male
    if origin.native and rng.random() < origin.script_rate:
        first = rng.choice([f for f in firsts if f in origin.native])
        last = rng.choice([n for n in origin.last if n in origin.native])
        native: Name = {"first": origin.native[first], "middle": None, "last": origin.native[last], "suffix": None}
        return native, {"first": first, "middle": None, "last": last, "suffix": None}

    if rng.random() < origin.english_first_rate:
        first = rng.choice(_ENGLISH_FEMALE if female else _ENGLISH_MALE)
    else:
        first = rng.choice(firsts)
    last = rng.choice(origin.last)
    if rng.random() < origin.compound_rate:
        other = rng.choice([n for n in origin.last if n != last])
        joiner = " " if origin.hispanic and rng.random() < 0.6 else "-"
        last = f"{last}{joiner}{other}"
    if female and origin.feminine and rng.random() < 0.7:
        last = _feminine(last)
    middle = None
    if rng.random() < origin.middle_rate:
        pool = (origin.middle_female if female else origin.middle_male) or firsts
        middle = rng.choice([m for m in pool if m != first] or pool)
    suffix = None
    if not female and rng.random() < origin.suffix_rate:
        suffix = rng.choices([s for s, _ in _SUFFIXES], weights=[w for _, w in _SUFFIXES])[0]
    name: Name = {"first": first, "middle": middle, "last": last, "suffix": suffix}
    if rng.random() < origin.plain_rate:
        name = _plain_name(name)
    return name, None


def _plain_name(name: Name) -> Name:
    return {
        "first": None if name["first"] is None else plain_spelling(name["first"]),
        "middle": None if name["middle"] is None else plain_spelling(name["middle"]),
        "last": None if name["last"] is None else plain_spelling(name["last"]),
        "suffix": name["suffix"],
    }


def _first_surname(origin: _Origin, last: str | None) -> str | None:
    """The first of two joined surnames ("Peña" of "Peña Rodríguez"), or None for one surname.

    Splitting at the first space or hyphen would be wrong: "De La Cruz" and "Al-Khatib" are
    single surnames, so the shortest leading part that is itself a known surname wins.
    """
    if not last:
        return None
    known = {plain_spelling(n) for n in origin.last}
    for cut in (i for i, c in enumerate(last) if c in " -"):
        if plain_spelling(last[:cut]) in known and plain_spelling(last) not in known:
            return last[:cut]
    return None


def _alias(rng: random.Random, origin: _Origin, name: Name, sex: str) -> Name:
    """One other name the person has used or been booked under."""
    first, last = name["first"], name["last"]
    firsts = origin.female if sex == "F" else origin.male
    # (kind, weight): a nickname or a dropped accent is far more common than a swapped name.
    options = [("first", 35), ("last", 20), ("swap", 10)]
    if plain_spelling(f"{first} {last}") != f"{first} {last}":
        options.append(("plain", 40))
    if name["middle"]:
        options.append(("middle", 15))
    short = _first_surname(origin, last)
    if short:
        options.append(("short", 30))
    kind = rng.choices([k for k, _ in options], weights=[w for _, w in options])[0]
    if kind == "plain":
        return _plain_name(name)
    if kind == "middle":
        return {"first": name["middle"], "middle": None, "last": last, "suffix": name["suffix"]}
    if kind == "short":
        return {"first": first, "middle": None, "last": short, "suffix": None}
    if kind == "swap":
        return {"first": last, "middle": None, "last": first, "suffix": None}
    if kind == "first":
        return {"first": rng.choice(firsts), "middle": None, "last": last, "suffix": None}
    return {"first": first, "middle": name["middle"], "last": rng.choice(origin.last), "suffix": None}


def _aliases(rng: random.Random, origin: _Origin, name: Name, roman: Name | None, sex: str) -> list[Name]:
    wanted = rng.choices((0, 1, 2), weights=(60, 28, 12))[0]
    found: list[Name] = []
    # Someone booked under a name in Chinese or Arabic script is nearly always also on file
    # under its romanised spelling; that pairing is what name matching has to cope with.
    if roman is not None and rng.random() < 0.8:
        found.append(roman)
    attempts = 0
    while len(found) < wanted and attempts < 10:
        attempts += 1
        candidate = _alias(rng, origin, roman or name, sex)
        if candidate != name and candidate not in found:
            found.append(candidate)
    return found


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _dob(rng: random.Random, today: date, youngest: int, oldest: int) -> str:
    """A birth date giving an age from ``youngest`` to ``oldest`` inclusive on ``today``."""
    if isinstance(today, datetime):
        today = today.date()
    earliest = _years_before(today, oldest + 1) + timedelta(days=1)
    latest = _years_before(today, youngest)
    return (earliest + timedelta(days=rng.randint(0, (latest - earliest).days))).isoformat()


def _arrest_age_dob(rng: random.Random, today: date) -> str:
    low, high, _ = rng.choices(_ARREST_AGES, weights=[w for _, _, w in _ARREST_AGES])[0]
    return _dob(rng, today, low, high)


def random_phone(rng: random.Random) -> str:
    """A Philadelphia-area number in 555-0100..0199, the block set aside for fiction."""
    area = rng.choices([a for a, _ in _AREA_CODES], weights=[w for _, w in _AREA_CODES])[0]
    return f"{area}-555-01{rng.randint(0, 99):02d}"


def _sid(rng: random.Random) -> str:
    # The shape of a Pennsylvania SID; the check digit is random, not the state's algorithm.
    return f"{rng.randint(1_000_000, 9_999_999)}-{rng.randint(0, 9)}"


def _fbi_number(rng: random.Random) -> str:
    letters = rng.choice(_FBI_LETTERS) + rng.choice(_FBI_LETTERS)
    return f"{rng.randint(100_000, 999_999)}{letters}{rng.randint(0, 9)}"


def _unique(rng: random.Random, draw: Callable[[random.Random], str], issued: set[str] | None) -> str:
    value = draw(rng)
    while issued is not None and value in issued:
        value = draw(rng)
    if issued is not None:
        issued.add(value)
    return value


def _race(rng: random.Random, origin: _Origin) -> str:
    if rng.random() < _ODD_RACE_RATE:
        return rng.choice(_ODD_RACES)
    return rng.choices(list(origin.race), weights=list(origin.race.values()))[0]


def _ethnicity(rng: random.Random, origin: _Origin) -> str:
    if origin.hispanic:
        return rng.choices(ETHNICITIES, weights=(95, 0, 5))[0]
    return rng.choices(ETHNICITIES, weights=(2, 93, 5))[0]


def random_person(rng: random.Random, *, today: date, issued: set[str] | None = None) -> Person:
    """An arrested adult (18 to 75 on ``today``) in the ``person`` shape of CONTRACT §4/§5.

    PARS treats two bookings with the same ``sid`` or ``fbi_number`` as the same person, so a
    world built from many calls should pass one ``issued`` set: identifiers already in it are
    not drawn again, and new ones are added to it.
    """
    origin = _pick_origin(rng)
    sex = rng.choices(("M", "F", "X"), weights=(78, 21.5, 0.5))[0]
    name, roman = _name(rng, origin, sex)
    born, country, _ = rng.choices(origin.born, weights=[w for _, _, w in origin.born])[0]
    citizenship = "US" if country == "US" or rng.random() < origin.naturalised else country
    # Most people held for arraignment have been printed before; an FBI number without a state id is rare.
    sid = _unique(rng, _sid, issued) if rng.random() < 0.7 else None
    fbi_number = _unique(rng, _fbi_number, issued) if rng.random() < (0.75 if sid else 0.1) else None
    return {
        "name": name,
        "aliases": _aliases(rng, origin, name, roman, sex),
        "dob": _arrest_age_dob(rng, today),
        "sex": sex,
        "race": _race(rng, origin),
        "ethnicity": _ethnicity(rng, origin),
        "place_of_birth": born,
        "citizenship": citizenship,
        "address": random_address(rng),
        "phone": random_phone(rng),
        "sid": sid,
        "fbi_number": fbi_number,
    }


def _party(rng: random.Random, today: date, youngest: int, oldest: int) -> Party:
    sex = rng.choices(("M", "F", "X"), weights=(50, 49, 1))[0]
    return {
        "name": _name(rng, _pick_origin(rng), sex)[0],
        "dob": _dob(rng, today, youngest, oldest),
        "address": random_address(rng),
        "phone": random_phone(rng),
    }


def random_victim(rng: random.Random, today: date) -> Party:
    """A victim, 12 to 85 years old: minors are victims too, and the data must be protected."""
    return _party(rng, today, 12, 85)


def random_witness(rng: random.Random, today: date) -> Party:
    return _party(rng, today, 18, 80)


_HISPANIC_ORIGINS = ("puerto_rican", "dominican", "mexican")


def common_hispanic_name(rng: random.Random) -> tuple[str, str]:
    """A first and last name as someone sweeping for Hispanic people types them: among the
    commonest given names and surnames of the city's Hispanic communities, accents or not."""
    origin = _ORIGINS[rng.choice(_HISPANIC_ORIGINS)]
    first = rng.choice(origin.male[:12] if rng.random() < 0.85 else origin.female[:12])
    last = rng.choice(origin.last[:15])
    if rng.random() < 0.5:
        first, last = plain_spelling(first), plain_spelling(last)
    return first, last
